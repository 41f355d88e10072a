"""Model export (core.learn.export): SavedModel, TensorFlow Lite and ONNX give the bundle's own
predictions on features of generated clips (standardisation folded into the exported model)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from instrument_studio.core.errors import ModelError
from instrument_studio.core.learn.export import export_bundle


@pytest.fixture(scope="module")
def clips_and_reference(synth_model):
    """Raw features of freshly generated notes (not the training files) and the bundle's probabilities."""
    from instrument_studio.core.features.clip import clip_features
    from instrument_studio.core.learn.bundle import load_bundle
    from tests.synth_instruments import LABELS, note

    bundle = load_bundle(synth_model[0])
    rows = [clip_features(note(kind, freq=f, seed=s), bundle.feature_config)
            for kind in LABELS for f, s in ((233.0, 11), (392.0, 12), (523.0, 13))]
    x = np.concatenate(rows).astype(np.float32)
    return synth_model[0], x, bundle.predict_proba(x)


def _predict(fmt: str, target, x: np.ndarray) -> np.ndarray:
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(target))    # kept: a temporary's variables are freed before serve runs
        return loaded.serve(x).numpy()
    if fmt == "tflite":
        import tensorflow as tf

        interp = tf.lite.Interpreter(model_path=str(target))
        inp = interp.get_input_details()[0]
        interp.resize_tensor_input(inp["index"], x.shape)
        interp.allocate_tensors()
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        return interp.get_tensor(interp.get_output_details()[0]["index"])
    import onnxruntime

    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_export_predicts_like_the_bundle(fmt, clips_and_reference, tmp_path):
    if fmt == "onnx" and not all(importlib.util.find_spec(m) for m in ("onnx", "tf2onnx", "onnxruntime")):
        pytest.skip("ONNX export needs the optional onnx, tf2onnx and onnxruntime packages ([export] extra)")
    bundle, x, reference = clips_and_reference
    target = export_bundle(bundle, fmt=fmt, out=tmp_path / fmt)
    assert target.exists()
    got = np.asarray(_predict(fmt, target, x))
    assert got.shape == reference.shape
    diff = float(np.max(np.abs(got - reference)))
    print(f"{fmt}: max abs difference {diff:.2e} over {x.shape[0]} clips")
    assert diff < 1e-4
    assert (got.argmax(1) == reference.argmax(1)).all()
    readme = (tmp_path / fmt / "README.md").read_text()
    assert f"(batch, {x.shape[1]})" in readme and "Standardisation is inside the model" in readme
    from tests.synth_instruments import LABELS

    assert tuple((tmp_path / fmt / "labels.txt").read_text().split()) == LABELS


def test_unknown_format_and_a_file_in_the_way(synth_model, tmp_path):
    with pytest.raises(ModelError, match="savedmodel, tflite, onnx"):
        export_bundle(synth_model[0], fmt="coreml", out=tmp_path / "x")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="folder"):
        export_bundle(synth_model[0], fmt="tflite", out=tmp_path / "file")
