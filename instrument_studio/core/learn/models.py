"""The field's models: a registry name -> builder(input_shape, n_classes, **hparams).

Every builder returns an uncompiled `keras.Model` made of stock Keras layers only, so a saved model
loads with `safe_mode=True` and no custom objects. Keras (on whichever backend: core/learn/backend.py) is imported inside the
functions: importing this module costs nothing (the GUI lists models at start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError
from .backend import import_keras


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    feature_kind: str            # the FeatureConfig.kind this model is meant for
    description: str
    defaults: dict[str, Any]
    builder: Callable[..., Any]


def _keras():
    return import_keras()   # on the chosen backend; TensorFlow's C++ logs quiet


def _regulariser(l2: float):
    keras = _keras()
    return keras.regularizers.L2(l2) if l2 and l2 > 0 else None


def _input(shape: tuple[int, ...], *, image: bool):
    """Input layer; for image models a (rows, cols) feature gets a channel axis via a Reshape layer."""
    keras = _keras()
    inputs = keras.Input(shape=tuple(int(s) for s in shape), name="features")
    x = inputs
    if image:
        if len(shape) == 2:
            x = keras.layers.Reshape((*shape, 1), name="add_channel")(x)
        elif len(shape) != 3:
            raise ModelError(f"this model needs (bands, frames) or (bands, frames, channels) input, got {shape}")
    return inputs, x


def _activation(name: str, *, alpha: float, layer_name: str):
    keras = _keras()
    if name in ("leaky_relu", "leaky-relu", "leakyrelu"):
        # Keras 3 calls LeakyReLU's slope negative_slope (alpha in Keras 2 and in the paper).
        return keras.layers.LeakyReLU(negative_slope=alpha, name=layer_name)
    return keras.layers.Activation(name, name=layer_name)


def _classes(n_classes: int):
    """The softmax output layer. Under a mixed-precision policy (training.build_compiled) it stays in
    float32: a float16 softmax underflows and the loss turns to NaN."""
    keras = _keras()
    mixed = keras.config.dtype_policy().name.startswith("mixed")
    return keras.layers.Dense(int(n_classes), activation="softmax", name="classes",
                              dtype="float32" if mixed else None)


# --- builders ----------------------------------------------------------------------------------
def build_mlp(input_shape, n_classes, *, units=256, activation="sigmoid", depth=1, dropout=0.0, l2=0.0):
    """The course labs' network: Dense(256, sigmoid) -> Dense(n_classes, softmax), on MFCC vectors."""
    keras = _keras()
    if len(input_shape) != 1:
        raise ModelError(f"mlp needs one feature vector per example (kind mfcc), got input shape {tuple(input_shape)}")
    inputs, x = _input(input_shape, image=False)
    for i in range(int(depth)):
        x = keras.layers.Dense(int(units), activation=activation, kernel_regularizer=_regulariser(l2),
                               name=f"dense_{i + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(float(dropout), name=f"dropout_{i + 1}")(x)
    outputs = keras.layers.Dense(int(n_classes), activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="mlp")


def build_lstm(input_shape, n_classes, *, units=(128, 64), dropout=0.3, dense_units=64, l2=0.0):
    """Two LSTM layers with dropout on frame sequences (frames x 21), as in the Medley-solos-DB study."""
    keras = _keras()
    if len(input_shape) != 2:
        raise ModelError(f"lstm needs frame sequences (frames, features; kind sequence), got {tuple(input_shape)}")
    if isinstance(units, int):
        units = (units, units)
    inputs, x = _input(input_shape, image=False)
    x = keras.layers.LSTM(int(units[0]), return_sequences=True, kernel_regularizer=_regulariser(l2), name="lstm_1")(x)
    x = keras.layers.Dropout(float(dropout), name="dropout_1")(x)
    x = keras.layers.LSTM(int(units[1]), kernel_regularizer=_regulariser(l2), name="lstm_2")(x)
    x = keras.layers.Dropout(float(dropout), name="dropout_2")(x)
    if dense_units:
        x = keras.layers.Dense(int(dense_units), activation="relu", name="dense")(x)
    outputs = keras.layers.Dense(int(n_classes), activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="lstm")


def build_cnn(input_shape, n_classes, *, filters=(16, 32, 64), dense_units=128, batch_norm=True,
              dropout=0.3, l2=0.0, pooling="flatten"):
    """The ESC-50 lab's CNN on a log-mel spectrogram: conv 3x3 -> (BN) -> ReLU -> max-pool 2x2 blocks,
    then dense -> dropout -> softmax. pooling "flatten" (the lab) or "global-average" (fewer weights)."""
    keras = _keras()
    inputs, x = _input(input_shape, image=True)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(int(f), 3, padding="same", kernel_regularizer=_regulariser(l2),
                                use_bias=not batch_norm, name=f"conv_{i + 1}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"bn_{i + 1}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i + 1}")(x)
        x = keras.layers.MaxPooling2D(2, padding="same", name=f"pool_{i + 1}")(x)
    if pooling == "global-average":
        x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    elif pooling == "flatten":
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        raise ModelError(f"cnn pooling must be 'flatten' or 'global-average', got {pooling!r}")
    if dropout:
        x = keras.layers.Dropout(float(dropout), name="dropout_1")(x)
    x = keras.layers.Dense(int(dense_units), activation="relu", kernel_regularizer=_regulariser(l2), name="dense")(x)
    if dropout:
        x = keras.layers.Dropout(float(dropout), name="dropout_2")(x)
    outputs = _classes(n_classes)(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_han2017(input_shape, n_classes, *, activation="relu", alpha=0.33, filters=32, dense_units=1024,
                  dropout=0.25, dense_dropout=0.5, l2=0.0):
    """Han, Kim & Lee 2017 (IEEE/ACM TASLP), predominant-instrument ConvNet on 1 s log-mel patches
    (128 bands x 43 frames): four blocks of two 3x3 convolutions (32, 64, 128, 256 filters) with
    max-pooling 3x3 and dropout 0.25 after the first three, global max-pooling, Dense(1024), dropout
    0.5, output. The paper's output is sigmoid for multi-label IRMAS; here softmax (one label per clip)."""
    keras = _keras()
    inputs, x = _input(input_shape, image=True)
    widths = [int(filters) * m for m in (1, 2, 4, 8)]
    for b, width in enumerate(widths, start=1):
        for c in (1, 2):
            x = keras.layers.Conv2D(width, 3, padding="same", kernel_regularizer=_regulariser(l2),
                                    name=f"conv_{b}_{c}")(x)
            x = _activation(activation, alpha=alpha, layer_name=f"act_{b}_{c}")(x)
        if b < len(widths):
            # "same" pooling keeps tiny test inputs valid; for 128x43 it gives 43x15 -> 15x5 -> 5x2.
            x = keras.layers.MaxPooling2D(3, padding="same", name=f"pool_{b}")(x)
            x = keras.layers.Dropout(float(dropout), name=f"dropout_{b}")(x)
    x = keras.layers.GlobalMaxPooling2D(name="global_max_pool")(x)
    x = keras.layers.Dense(int(dense_units), kernel_regularizer=_regulariser(l2), name="dense")(x)
    x = _activation(activation, alpha=alpha, layer_name="dense_act")(x)
    x = keras.layers.Dropout(float(dense_dropout), name="dense_dropout")(x)
    outputs = _classes(n_classes)(x)
    return keras.Model(inputs, outputs, name="han2017")


def build_han2017_leaky(input_shape, n_classes, **hparams):
    """Han et al. 2017 with LeakyReLU (alpha 0.33), the paper's best variant."""
    hparams.setdefault("activation", "leaky_relu")
    hparams.setdefault("alpha", 0.33)
    model = build_han2017(input_shape, n_classes, **hparams)
    model.name = "han2017_leaky"
    return model


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec("mlp", "MLP (course labs)", "mfcc",
                     "Dense(256, sigmoid) -> Dense(classes, softmax) on MFCC summary vectors",
                     {"units": 256, "activation": "sigmoid", "depth": 1, "dropout": 0.0, "l2": 0.0}, build_mlp),
    "lstm": ModelSpec("lstm", "LSTM (Medley-solos-DB study)", "sequence",
                      "two LSTM layers with dropout on 21-value frame sequences",
                      {"units": (128, 64), "dropout": 0.3, "dense_units": 64, "l2": 0.0}, build_lstm),
    "cnn": ModelSpec("cnn", "CNN (ESC-50 lab)", "mel-patches",
                     "conv/pool blocks on log-mel spectrograms, batch-norm, dropout, L2",
                     {"filters": (16, 32, 64), "dense_units": 128, "batch_norm": True, "dropout": 0.3,
                      "l2": 0.0, "pooling": "flatten"}, build_cnn),
    "han2017": ModelSpec("han2017", "Han et al. 2017 (ReLU)", "mel-patches",
                         "predominant-instrument ConvNet on 1 s log-mel patches, ReLU",
                         {"filters": 32, "dense_units": 1024, "dropout": 0.25, "dense_dropout": 0.5, "l2": 0.0},
                         build_han2017),
    "han2017-leaky": ModelSpec("han2017-leaky", "Han et al. 2017 (LeakyReLU 0.33)", "mel-patches",
                               "predominant-instrument ConvNet on 1 s log-mel patches, LeakyReLU alpha 0.33",
                               {"filters": 32, "dense_units": 1024, "dropout": 0.25, "dense_dropout": 0.5,
                                "l2": 0.0, "alpha": 0.33}, build_han2017_leaky),
}

MODEL_NAMES = tuple(MODELS)


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None


def build_model(name: str, input_shape, n_classes: int, **hparams):
    """Build registry model `name`; bad hyper-parameters or shapes become a ModelError."""
    spec = model_spec(name)
    if n_classes < 2:
        raise ModelError(f"a classifier needs at least 2 classes, got {n_classes}")
    unknown = sorted(set(hparams) - set(spec.defaults) - {"activation"})
    if unknown:
        raise ModelError(f"model {name}: unknown parameter(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(spec.defaults))}")
    try:
        return spec.builder(tuple(input_shape), int(n_classes), **hparams)
    except ModelError:
        raise
    except (ValueError, TypeError) as exc:
        raise ModelError(f"cannot build {name} for input shape {tuple(input_shape)}: {exc}") from exc


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str
    output_shape: tuple
    params: int


@dataclass(frozen=True)
class ModelSummary:
    name: str
    input_shape: tuple
    n_classes: int
    layers: tuple[LayerInfo, ...]
    total_params: int
    trainable_params: int

    def as_text(self) -> str:
        rows = [f"{'layer':<20} {'type':<20} {'output shape':<22} {'params':>10}"]
        for layer in self.layers:
            shape = "(" + ", ".join("batch" if d is None else str(d) for d in layer.output_shape) + ")"
            rows.append(f"{layer.name:<20} {layer.kind:<20} {shape:<22} {layer.params:>10,}")
        rows.append(f"total {self.total_params:,} parameters ({self.trainable_params:,} trainable)")
        return "\n".join(rows)


def summarise(model, name: str | None = None) -> ModelSummary:
    """Layers, output shapes and parameter counts of a built model, as data."""
    import numpy as np

    layers = []
    for layer in model.layers:
        out = getattr(layer, "output", None)
        shape = tuple(out.shape) if out is not None and hasattr(out, "shape") else ()
        layers.append(LayerInfo(layer.name, type(layer).__name__, shape, int(layer.count_params())))
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return ModelSummary(name or model.name, tuple(model.input_shape[1:]), int(model.output_shape[-1]),
                        tuple(layers), int(model.count_params()), trainable)


def model_summary(name: str, input_shape, n_classes: int, **hparams) -> ModelSummary:
    """Build the model (without training) and describe it: for the GUI's summary view and the CLI."""
    return summarise(build_model(name, input_shape, n_classes, **hparams), name)


def inference_call(model):
    """`model`'s forward pass (training=False) for repeated calls: on TensorFlow compiled into a
    graph once, for every batch size (an eager call of a deep network such as musicnn costs twice
    the graph's time: 140 vs 61 ms a window, measured under load)."""
    import keras

    def call(x):
        return model(x, training=False)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(call, reduce_retracing=True)
    return call
