"""Keras backends: JAX trains the app's models in a process of its own, reproducibly on the CPU, without
TensorFlow; a bundle trained on one backend predicts the same (within 1e-5) on another; the choice of
backend and the device naming per backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from instrument_studio.core.errors import ConfigError, ModelError
from instrument_studio.core.learn import backend

ROOT = Path(__file__).resolve().parents[2]
needs_jax = pytest.mark.skipif(not backend.installed("jax"), reason="JAX not installed (pip install 'jax[cpu]')")
needs_tf = pytest.mark.skipif(not backend.installed("tensorflow"), reason="TensorFlow not installed")


def run_job(keras_backend: str, *args: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": keras_backend, "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "tests.backend_job", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1100)
    assert done.returncode == 0, done.stderr[-3000:]


@needs_jax
@needs_tf
def test_tensorflow_loads_without_jax_and_pyplot_which_still_import_afterwards():
    """TensorFlow Lite imports jax and Keras imports pyplot as they load, for features the app never
    uses (2 s of a cold start): skipped then, and importable afterwards (the JAX backend, reports)."""
    code = ("import sys\n"
            "from instrument_studio.core.learn.backend import import_keras\n"
            "import_keras()\n"
            "assert 'tensorflow' in sys.modules and 'jax' not in sys.modules, sorted(sys.modules)\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n"
            "import jax.numpy, matplotlib.pyplot\n"
            "import tensorflow as tf\n"
            "assert tf.lite.TFLiteConverter is not None\n")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_skipped_imports_raise_meanwhile_and_are_forgotten_after():
    from instrument_studio.core.learn.tfthread import skipped_imports

    name = "json.tool_never_loaded_here"   # a module nobody has loaded: blocked, then forgotten
    with skipped_imports(("json", name)):
        assert sys.modules["json"] is json              # already loaded: left alone
        with pytest.raises(ImportError):
            __import__(name)
    assert name not in sys.modules


@needs_jax
@pytest.mark.timeout(900)
def test_jax_trains_reproducibly_without_tensorflow(tmp_path):
    out = tmp_path / "report.json"
    run_job("jax", "train", str(out))
    report = json.loads(out.read_text())
    assert report["backend"] == "jax" and report["device"] == "CPU" and report["reproducible"]
    assert not report["tensorflow_imported"]
    assert report["history"] == report["history_again"]          # same seed, same curves
    assert report["history"]["loss"][-1] < report["history"]["loss"][0]


@needs_jax
@needs_tf
@pytest.mark.timeout(1200)   # four fresh processes, each importing a backend: minutes on a loaded machine
@pytest.mark.parametrize("source, target", [("tensorflow", "jax"), ("jax", "tensorflow")])
def test_a_bundle_predicts_the_same_on_another_backend(tmp_path, source, target):
    run_job(source, "bundles", str(tmp_path))
    run_job(target, "predict", str(tmp_path))
    for model in ("mlp", "han2017"):
        here, there = np.load(tmp_path / f"{model}.here.npy"), np.load(tmp_path / f"{model}.there.npy")
        assert here.shape == there.shape == (16, 3)
        assert not np.allclose(here, here[:1])       # a trained model, not a constant answer
        np.testing.assert_allclose(there, here, rtol=0, atol=1e-5)
        meta = json.loads((tmp_path / model / "bundle.json").read_text())
        assert meta["versions"]["keras_backend"] == source


def test_choose_backend_validates_and_cannot_switch_a_running_keras(monkeypatch):
    with pytest.raises(ConfigError, match="unknown Keras backend"):
        backend.choose_backend("theano")
    import keras

    running = keras.backend.backend()
    assert backend.choose_backend(running) == running
    other = next(b for b in backend.BACKENDS if b != running)
    with pytest.raises(ConfigError, match="next start"):
        backend.choose_backend(other)


def test_missing_backend_names_the_others(monkeypatch):
    monkeypatch.setattr(backend, "installed", lambda name: name == "jax")
    error = backend.backend_missing("tensorflow", ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow"))
    assert isinstance(error, ModelError)
    assert "TensorFlow is not installed" in str(error) and "--backend jax" in error.hint
    monkeypatch.setattr(backend, "installed", lambda name: False)
    error = backend.backend_missing("tensorflow", ModuleNotFoundError("x", name="tensorflow"))
    assert "instrument-studio[jax]" in error.hint and "instrument-studio[torch]" in error.hint


def test_reproducible_by_default_on_cpu_only():
    assert backend.resolve_reproducible(None, "CPU") is True
    assert backend.resolve_reproducible(None, "GPU: NVIDIA H200") is False
    assert backend.resolve_reproducible(True, "GPU: NVIDIA H200") is True
    assert backend.resolve_reproducible(False, "CPU") is False


def test_device_names_per_backend(monkeypatch):
    """JAX and PyTorch devices, faked: the same 'GPU: <name>' / 'CPU' the panels show for TensorFlow."""
    import types

    gpu = types.SimpleNamespace(platform="gpu", device_kind="NVIDIA H200",
                                client=types.SimpleNamespace(platform_version="PJRT C API\ncuda 12080"))
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=lambda: [gpu, gpu]))
    assert backend._jax_device() == "GPU: NVIDIA H200 (+1 more)"
    rocm = types.SimpleNamespace(platform="gpu", device_kind="AMD Instinct MI300X",
                                 client=types.SimpleNamespace(platform_version="rocm 6.2"))
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=lambda: [rocm]))
    assert backend._jax_device() == "GPU: AMD Instinct MI300X (ROCm)"
    cpu = types.SimpleNamespace(platform="cpu", device_kind="cpu", client=None)
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=lambda: [cpu]))
    assert backend._jax_device() == "CPU"

    def torch_module(cuda: bool, mps: bool, hip=None):
        return types.SimpleNamespace(
            cuda=types.SimpleNamespace(is_available=lambda: cuda, get_device_name=lambda i: "NVIDIA H200",
                                       device_count=lambda: 1),
            version=types.SimpleNamespace(hip=hip),
            backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: mps)))

    monkeypatch.setitem(sys.modules, "torch", torch_module(True, False))
    assert backend._torch_device() == "GPU: NVIDIA H200"
    monkeypatch.setitem(sys.modules, "torch", torch_module(True, False, hip="6.2"))
    assert backend._torch_device() == "GPU: NVIDIA H200 (ROCm)"
    monkeypatch.setitem(sys.modules, "torch", torch_module(False, True))
    assert backend._torch_device() == "GPU: Apple MPS"
    monkeypatch.setitem(sys.modules, "torch", torch_module(False, False))
    assert backend._torch_device() == "CPU"
