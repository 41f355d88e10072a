"""The musicnn music-audio embedding (Pons & Serra, 2019), rebuilt as plain Keras 3 layers.

The `musicnn` 0.1.0 wheel (ISC licence, PyPI) ships TensorFlow 1 checkpoints of a CNN trained to
tag real recordings (MagnaTagATune: MTT_musicnn; Million Song Dataset: MSD_musicnn). Its pooled
mid-end layer is a description of timbre learnt from real players, rooms and microphones, which is
what a model that must name instruments in real recordings lacks when it has heard only samples.

The network is rebuilt here from the paper's code (musicnn/models.py, "7774timbraltemporal" front
end, dense mid end) with standard Keras layers only, so a bundle that contains it is one `.keras`
file that loads in safe mode on every Keras backend, and the checkpoint's variables are copied in.
TensorFlow is needed only to read the checkpoint (when the default model is rebuilt), never to use it.
"""

from __future__ import annotations

import numpy as np

from ..config import MUSICNN_FEATURES

# musicnn/configuration.py: the input the checkpoints were trained on (config.MUSICNN_FEATURES).
N_MELS = MUSICNN_FEATURES.mel.n_mels
N_FRAMES = MUSICNN_FEATURES.patch_frames
FRONT_FILTERS = 204          # int(1.6 * 128): timbral filters
TEMPORAL_FILTERS = 51        # int(1.6 * 32): temporal filters
MID_FILTERS = 64             # MTT_musicnn / MSD_musicnn mid end
POOLED = 2 * (2 * FRONT_FILTERS + 3 * TEMPORAL_FILTERS + 3 * MID_FILTERS)   # 1506: max + mean of 753


RIPPLE_BINS = N_MELS // 2   # 48: the band profile's Fourier magnitudes 1..48 (0, its mean level, left out)
EMBEDDING_PARTS = {"max": 753, "mean": 753, "penultimate": 200, "tags": 50, "mel_mean": N_MELS, "mel_max": N_MELS,
                   "mel_mean_ripple": RIPPLE_BINS, "mel_max_ripple": RIPPLE_BINS}
# The parts the shipped default model's head reads (packaging/make_default_model.py --parts; Teach's
# anchors are these parts too).
DEFAULT_HEAD_PARTS = ("max", "mean", "tags", "mel_mean", "mel_max", "mel_mean_ripple", "mel_max_ripple")
# Layers with fixed weights of our own (the ripple's Fourier transform), not in any checkpoint.
_FIXED_SUFFIXES = ("_dft", "_pair_sum")


def _ripple_dft() -> np.ndarray:
    """(N_MELS, 2 * RIPPLE_BINS): a band profile's Fourier transform, real and imaginary parts of each
    bin side by side (numpy's rfft convention)."""
    angle = 2 * np.pi * np.outer(np.arange(N_MELS), np.arange(1, RIPPLE_BINS + 1)) / N_MELS
    return np.stack([np.cos(angle), -np.sin(angle)], axis=-1).reshape(N_MELS, 2 * RIPPLE_BINS).astype(np.float32)


def _ripple(profile, label: str):
    """|rfft(profile)|[1:RIPPLE_BINS + 1] with standard layers only (a bundle stays loadable by any
    Keras): the transform is a fixed Dense; the magnitude of each (re, im) pair is its dot product
    with itself divided by its length, which UnitNormalization gives."""
    from keras import layers

    dft = layers.Dense(2 * RIPPLE_BINS, use_bias=False, trainable=False, name=f"{label}_dft")
    pairs = layers.Reshape((RIPPLE_BINS, 2), name=f"{label}_pairs")(dft(profile))
    dft.set_weights([_ripple_dft()])
    unit = layers.UnitNormalization(axis=-1, name=f"{label}_unit")(pairs)
    squares = layers.Multiply(name=f"{label}_squares")([pairs, unit])
    pair_sum = layers.Dense(1, use_bias=False, trainable=False, name=f"{label}_pair_sum")
    magnitude = pair_sum(squares)
    pair_sum.set_weights([np.ones((2, 1), dtype=np.float32)])
    return layers.Reshape((RIPPLE_BINS,), name=label)(magnitude)


def build_embedding(n_frames: int = N_FRAMES, *, name: str = "musicnn",
                    parts: tuple[str, ...] = ("max", "mean")):
    """Keras model: (n_frames, 96) log-mel -> the concatenated `parts` of musicnn's description of
    the window: "max" / "mean" over time of the 753 front/mid-end channels (the 1506-d pooled
    layer is max + mean), "penultimate" (the tagging back end's 200-d layer) and "tags" (the logits
    of the 50 tags: guitar, piano, violin, strings, flute, vocal, ...), and "mel_mean" / "mel_max":
    the window's own log-mel spectrum, its mean and maximum over time per band (after the input
    normalisation, an affine map with a positive scale). musicnn's timbral filters are max-pooled
    over frequency, so where in the spectrum a note's partials and formants lie is mostly lost to
    its features; beside them it names notes of a held-out library 3-6 points more often (see
    docs/evaluation.md). "mel_mean_ripple" / "mel_max_ripple": the magnitudes of those profiles'
    Fourier transform along the mel axis (bins 1-48): how the profile ripples across the bands
    (the spacing of partials, formants), wherever it lies, so much the same a few semitones up or
    down. Layer names follow the checkpoint's variables, so load_weights can fill them."""
    import keras
    from keras import layers

    unknown = set(parts) - set(EMBEDDING_PARTS)
    if unknown or not parts:
        raise ValueError(f"unknown embedding part(s) {sorted(unknown)}; choose from {list(EMBEDDING_PARTS)}")
    inp = keras.Input((n_frames, N_MELS), name=f"{name}_mel")
    x = layers.Reshape((n_frames, N_MELS, 1), name=f"{name}_expand")(inp)
    x = layers.BatchNormalization(name="batch_normalization")(x)
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name=f"{name}_pad_time")(x)

    def freq_max(t, width, label):
        t = layers.MaxPooling2D((1, width), name=f"{label}_freq_max")(t)
        return layers.Reshape((n_frames, int(t.shape[-1])), name=f"{label}_squeeze")(t)

    front = []
    # Timbral filters span 40% and 70% of the mel axis and 7 frames; temporal ones 1 band and
    # 128/64/32 frames. Each is max-pooled over frequency.
    for i, (k_f, bn) in enumerate(((int(0.4 * N_MELS), 1), (int(0.7 * N_MELS), 2))):
        t = layers.Conv2D(FRONT_FILTERS, (7, k_f), activation="relu", name="conv2d" if i == 0 else "conv2d_1")(padded)
        t = layers.BatchNormalization(name=f"batch_normalization_{bn}")(t)
        front.append(freq_max(t, N_MELS - k_f + 1, f"timbral{i}"))
    for i, k_t in enumerate((128, 64, 32)):
        t = layers.Conv2D(TEMPORAL_FILTERS, (k_t, 1), padding="same", activation="relu", name=f"conv2d_{2 + i}")(x)
        t = layers.BatchNormalization(name=f"batch_normalization_{3 + i}")(t)
        front.append(freq_max(t, N_MELS, f"temporal{i}"))
    front = layers.Concatenate(axis=-1, name=f"{name}_front")(front)

    # Mid end: three 7-frame convolutions across all channels, the last two residual.
    mids = []
    h = front
    for i in range(3):
        c = layers.ZeroPadding1D(3, name=f"{name}_mid_pad{i}")(h)
        c = layers.Conv1D(MID_FILTERS, 7, activation="relu", name=f"conv2d_{5 + i}")(c)
        c = layers.BatchNormalization(name=f"batch_normalization_{6 + i}")(c)
        h = c if i == 0 else layers.Add(name=f"{name}_res{i}")([c, h])
        mids.append(h)
    feats = layers.Concatenate(axis=-1, name=f"{name}_features")([front, *mids])
    out = {"max": layers.GlobalMaxPooling1D(name=f"{name}_max")(feats),
           "mean": layers.GlobalAveragePooling1D(name=f"{name}_mean")(feats)}
    if {"penultimate", "tags"} & set(parts):
        pooled = layers.Concatenate(name=f"{name}_pooled")([out["max"], out["mean"]])
        h = layers.BatchNormalization(name="batch_normalization_9")(pooled)
        h = layers.Dense(200, activation="relu", name="dense")(h)
        out["penultimate"] = layers.BatchNormalization(name="batch_normalization_10")(h)
        out["tags"] = layers.Dense(50, name="dense_1")(out["penultimate"])   # logits of the tags
    if {"mel_mean", "mel_max", "mel_mean_ripple", "mel_max_ripple"} & set(parts):
        spectrum = layers.Reshape((n_frames, N_MELS), name=f"{name}_spectrum")(x)
        out["mel_mean"] = layers.GlobalAveragePooling1D(name=f"{name}_mel_mean")(spectrum)
        out["mel_max"] = layers.GlobalMaxPooling1D(name=f"{name}_mel_max")(spectrum)
        for profile in ("mel_mean", "mel_max"):
            if f"{profile}_ripple" in parts:
                out[f"{profile}_ripple"] = _ripple(out[profile], f"{name}_{profile}_ripple")
    chosen = [out[p] for p in parts]
    result = chosen[0] if len(chosen) == 1 else layers.Concatenate(name=f"{name}_embedding")(chosen)
    return keras.Model(inp, result, name=name)


# The checkpoint flattens (753, [max, mean]) interleaved; build_embedding concatenates all maxima,
# then all means. This index turns the checkpoint's order into ours.
_POOLED_ORDER = np.concatenate([np.arange(0, POOLED, 2), np.arange(1, POOLED, 2)])


def checkpoint_weights(folder) -> dict[str, np.ndarray]:
    """Variables of a musicnn checkpoint folder (the wheel's MSD_musicnn/ or MTT_musicnn/), keyed by
    their names without the 'model/' scope. Reads TF1 checkpoints: needs TensorFlow."""
    import tensorflow as tf

    # The checkpoint files are dot-files (".index", ".data-...") and the `checkpoint` index names
    # the author's home folder, so tf.train.load_checkpoint fails; the reader on the prefix works.
    reader = tf.compat.v1.train.NewCheckpointReader(str(folder).rstrip("/") + "/")
    out = {}
    for key in reader.get_variable_to_shape_map():
        if "Adam" in key or key.endswith("_power"):
            continue
        out[key.removeprefix("model/")] = reader.get_tensor(key)
    return out


def load_weights(model, weights: dict[str, np.ndarray]) -> None:
    """Copy checkpoint variables into build_embedding()'s layers (same names)."""
    from keras import layers

    for layer in model.layers:
        n = layer.name
        if n.endswith(_FIXED_SUFFIXES):
            continue
        if isinstance(layer, layers.BatchNormalization):
            order = _POOLED_ORDER if n == "batch_normalization_9" else slice(None)
            layer.set_weights([weights[f"{n}/{v}"][order] for v in ("gamma", "beta", "moving_mean", "moving_variance")])
        elif isinstance(layer, layers.Dense):
            kernel = weights[f"{n}/kernel"]
            layer.set_weights([kernel[_POOLED_ORDER] if n == "dense" else kernel, weights[f"{n}/bias"]])
        elif isinstance(layer, layers.Conv1D):
            # The mid end's 2-D kernels (7, width, 1, filters) span every channel: a 1-D convolution.
            layer.set_weights([weights[f"{n}/kernel"][:, :, 0, :], weights[f"{n}/bias"]])
        elif isinstance(layer, layers.Conv2D):
            layer.set_weights([weights[f"{n}/kernel"], weights[f"{n}/bias"]])


def build_classifier(embedding, *, mean: np.ndarray, scale: np.ndarray, weights: np.ndarray,
                     bias: np.ndarray, temperature: float = 1.0, name: str = "instrument_classifier"):
    """One Keras model from musicnn log-mel windows to class probabilities: the frozen embedding,
    the standardisation of its features, and a linear head whose logits are divided by the
    calibration temperature (folded into the weights, so the saved model needs nothing else)."""
    import keras
    from keras import layers

    embedding.trainable = False
    x = layers.Normalization(mean=np.asarray(mean, dtype=np.float32),
                             variance=np.square(np.asarray(scale, dtype=np.float32)), name="standardise")(
        embedding.output)
    head = layers.Dense(len(bias), name="head")
    logits = head(x)
    head.set_weights([np.asarray(weights, dtype=np.float32) / temperature,
                      np.asarray(bias, dtype=np.float32) / temperature])
    probs = layers.Softmax(name="probabilities")(logits)
    return keras.Model(embedding.input, probs, name=name)
