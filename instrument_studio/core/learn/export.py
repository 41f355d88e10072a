"""Export a model bundle for use outside the app: TensorFlow SavedModel, TensorFlow Lite or ONNX.

The exported model takes the bundle's RAW features (the feature config's output) and returns class
probabilities: the standardisation fitted in training is folded in as a first layer (Keras
`Rescaling` with scale 1/std and offset -mean/std: constants in every format, where a
`Normalization` layer's statistics became extra ONNX inputs). A README.md and labels.txt beside the
export say what the model expects. ONNX needs the optional `onnx` and `tf2onnx` packages
(`pip install instrument-studio[export]`); without them the export says so.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..fileio import atomic_write_text

FORMATS = ("savedmodel", "tflite", "onnx")
_FILES = {"savedmodel": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}


def with_standardisation(bundle):
    """A Keras model computing bundle.model((x - mean) / std) from raw features x."""
    import keras

    shape = bundle.input_shape
    inputs = keras.Input(shape=shape, name="features")
    x = inputs
    if bundle.mean is not None and bundle.std is not None:
        mean = np.broadcast_to(np.asarray(bundle.mean, np.float32), shape)
        std = np.broadcast_to(np.asarray(bundle.std, np.float32), shape)
        x = keras.layers.Rescaling(scale=(1.0 / std).astype(np.float32), offset=(-mean / std).astype(np.float32),
                                   name="standardise")(x)
    return keras.Model(inputs, bundle.model(x), name="instrument_studio_export")


def export_bundle(bundle_path: str | Path, *, fmt: str, out: str | Path) -> Path:
    """Write the export into folder `out` (created; an existing export of the same format there is
    replaced). Returns the path of the model file (or SavedModel folder)."""
    from .bundle import load_bundle

    if fmt not in FORMATS:
        raise ModelError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "onnx":
        _require_onnx()
    bundle = load_bundle(bundle_path)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ModelError("the export goes into a folder, and a file of that name is there", path=out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / _FILES[fmt]
    model = with_standardisation(bundle)
    model(np.zeros((1, *bundle.input_shape), np.float32))   # built and called once: the ONNX export needs it
    try:
        if fmt == "savedmodel":
            shutil.rmtree(target, ignore_errors=True)
            model.export(str(target), format="tf_saved_model", verbose=False)
        elif fmt == "onnx":
            model.export(str(target), format="onnx", verbose=False)
        else:
            _write_tflite(model, target, out)
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        raise ModelError(f"cannot export as {fmt}: {' '.join(str(exc).split())[:300]}", path=out) from exc
    atomic_write_text(out / "labels.txt", "\n".join(bundle.labels) + "\n")
    atomic_write_text(out / "feature_config.json", json.dumps(bundle.feature_config.to_dict(), indent=1) + "\n")
    atomic_write_text(out / "README.md", export_readme(bundle, fmt=fmt, target=target.name))
    return target


def _write_tflite(model, target: Path, out: Path) -> None:
    import tempfile

    import tensorflow as tf

    # Through a SavedModel: the converter's from_keras_model traces Keras 3 models less reliably.
    with tempfile.TemporaryDirectory(dir=out, prefix=".tflite-") as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        data = tf.lite.TFLiteConverter.from_saved_model(tmp).convert()
    partial = target.with_suffix(".tflite.part")
    partial.write_bytes(data)
    partial.replace(target)


def _require_onnx() -> None:
    import importlib.util

    missing = [m for m in ("onnx", "tf2onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelError(f"ONNX export needs {' and '.join(missing)}: pip install 'instrument-studio[export]' "
                         "(or pip install onnx tf2onnx)")


def export_readme(bundle, *, fmt: str, target: str) -> str:
    fc = bundle.feature_config
    mel = fc.mel
    shape = ", ".join(str(d) for d in bundle.input_shape)
    how = {
        "savedmodel": f"`model = tf.saved_model.load('{target}')`, then `model.serve(x)` (keep `model` in a "
                      "variable: its weights go with it), or TensorFlow Serving / the TensorFlow.js converter.",
        "tflite": f"`tf.lite.Interpreter(model_path='{target}')` or the LiteRT interpreter (ai_edge_litert) on a "
                  "phone; resize the input tensor to the batch size you feed.",
        "onnx": f"`onnxruntime.InferenceSession('{target}')`; feed the one input by its name; works in "
                "onnxruntime-web in a browser.",
    }[fmt]
    feature_fields = json.dumps(fc.to_dict(), indent=1)
    return f"""# {bundle.path.name}: exported from Instrument Studio ({fmt})

Model file: `{target}`. Classes (output order, also in `labels.txt`): {", ".join(bundle.labels)}.

## Input
- A float32 array of shape **(batch, {shape})**: the RAW features of `{fc.kind}` kind, exactly as
  Instrument Studio computes them (`feature_config.json`, below). Audio is mono, resampled to
  {mel.sr} Hz, {getattr(mel, "n_mels", "?")} mel bands.
- **Standardisation is inside the model**: its first layer computes (x - mean) / std with the
  training rows' statistics. Do not standardise again.
- To compute the features the same way, use Instrument Studio's own code
  (`instrument_studio.core.features.clip.clip_features(y, FeatureConfig.from_dict(...))`).

## Output
Class probabilities, shape (batch, {len(bundle.labels)}), softmax (rows sum to 1). For a clip cut
into several patches, average the rows' probabilities (the app's default aggregation).

## Loading
{how}

## Feature config
```json
{feature_fields}
```
"""
