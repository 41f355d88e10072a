"""Which Keras 3 backend trains (TensorFlow, JAX or PyTorch), what it trains on, and its settings.

Everything else in core builds, trains, saves and loads through Keras APIs only, so the same models
and the same .keras bundles work on every backend. Keras reads its backend once, when it is first
imported, from KERAS_BACKEND: choose_backend() sets it before that (the CLI's --backend, the GUI's
preference applied at the next start), and import_keras() is the one way core imports Keras.

TensorFlow-only helpers (op determinism, GPU memory growth) run only when TensorFlow is the backend;
a backend that is not installed, or has no wheel for this platform, is a ModelError that names the
others and the extra that installs each.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from functools import cache

from ..errors import ConfigError, ModelError

BACKENDS = ("tensorflow", "jax", "torch")
TITLES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
# pip extras (pyproject.toml) that install each backend; "cuda" is TensorFlow's CUDA build.
EXTRAS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
AUTO = "auto"


def installed(name: str) -> bool:
    """Whether backend `name`'s package is importable (found, not imported: TensorFlow takes seconds)."""
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[name]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def installed_backends() -> tuple[str, ...]:
    return tuple(b for b in BACKENDS if installed(b))


def _normalise(name: str) -> str:
    name = (name or "").strip().lower()
    return {"pytorch": "torch", "tf": "tensorflow"}.get(name, name)


def _loaded_keras():
    """Keras when already imported (and not blocked by a None in sys.modules), else None."""
    return sys.modules.get("keras")


def choose_backend(name: str | None = None) -> str:
    """Fix the backend for this process before Keras is imported, and return it.

    `name` (--backend, the GUI preference) wins; else KERAS_BACKEND; else TensorFlow when installed,
    else the first installed of JAX and PyTorch. Raises ConfigError for an unknown name, or when
    Keras already runs on another backend (Keras cannot switch inside a process).
    """
    if name in (None, "", AUTO):
        name = os.environ.get("KERAS_BACKEND") or next(iter(installed_backends()), "tensorflow")
    name = _normalise(name)
    if name not in BACKENDS:
        raise ConfigError(f"unknown Keras backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if _loaded_keras() is not None:
        current = _loaded_keras().backend.backend()
        if current != name:
            raise ConfigError(f"Keras already runs on {current} in this process; {name} applies at the next start")
        return name
    os.environ["KERAS_BACKEND"] = name
    # CUDA numbers GPUs fastest first by default, NVML by PCI bus: one order for both, so the
    # energy meter (core/experiments/energy.py) maps CUDA_VISIBLE_DEVICES onto the right GPUs.
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    return name


def backend_name() -> str:
    """The backend in use (or that will be used when Keras is first imported)."""
    if _loaded_keras() is not None:
        return _loaded_keras().backend.backend()
    return choose_backend()


def backend_missing(name: str, exc: ImportError) -> ModelError:
    """The one-line error for a backend that is not installed (or has no wheel here), naming the others."""
    where = f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"
    others = [b for b in BACKENDS if b != name]
    usable = [b for b in others if installed(b)]
    suggestion = (f"use an installed one: --backend {usable[0]} (or KERAS_BACKEND={usable[0]})" if usable else
                  "install another: " + " or ".join(f'pip install "instrument-studio[{EXTRAS[b]}]"' for b in others))
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in (name, "tensorflow"):
        return ModelError(f"{TITLES[name]} is not installed ({where}); training, evaluation and prediction need a "
                          "Keras backend",
                          hint=f'install it with: {sys.executable} -m pip install "instrument-studio[{EXTRAS[name]}]" '
                               f"(where pip finds no {TITLES[name]} wheel for this platform, {suggestion})")
    return ModelError(f"{TITLES[name]} is installed but cannot be imported ({where}): {exc}".replace("\n", " "),
                      hint=f"reinstall it, or {suggestion}")


def import_keras():
    """Import Keras on the chosen backend: TensorFlow quietly (core/quiet.py) and with GPU memory
    growth; a missing backend is a ModelError naming the others."""
    name = backend_name()
    if _loaded_keras() is None:
        if name == "tensorflow":
            from .tfthread import import_tensorflow

            import_tensorflow()
            _tf_memory_growth()
        else:
            try:
                __import__(name)
            except ImportError as exc:
                raise backend_missing(name, exc) from exc
    try:
        from .tfthread import skipped_imports

        with skipped_imports(("matplotlib.pyplot",)):  # the backend (jax on JAX) is loaded by now
            import keras
    except ImportError as exc:
        raise ModelError(f"Keras is not installed or cannot be imported ({exc})",
                         hint=f"{sys.executable} -m pip install 'keras>=3.10'") from exc

    if name != "tensorflow":
        _keep_tensorflow_out()
    _freeze_long_lived()
    return keras


@cache
def _freeze_long_lived() -> None:
    """Once the backend and Keras are loaded, move every object alive now (their modules, half a
    million objects with TensorFlow and Qt) out of the cyclic garbage collector's sight. A full
    collection then scans only what was made since: the Training panel releases an old run's model
    with one (its layers hold cycles), and that took 235 ms with everything scanned, 2 ms after
    this (measured), a pause of the window at the end of every run from the fourth on. Objects made
    later (models, runs, features) are collected as before; what is frozen lives as long as the
    process, as imported modules do anyway."""
    import gc

    gc.collect()
    gc.freeze()


def _keep_tensorflow_out() -> None:
    """Keras imports TensorFlow wherever it is installed, whatever the backend, the first time it
    asks whether it is (seeding, saving a model): seconds of start-up, hundreds of MB, and on a GPU
    TensorFlow's own claim on its memory. On JAX or PyTorch nothing here uses it: tell Keras it is
    absent. Private Keras state, hence the guard: should it move, TensorFlow is merely imported."""
    if "tensorflow" in sys.modules:
        return
    try:
        from keras.src.utils.module_utils import tensorflow as lazy_tf
    except ImportError:
        return
    if getattr(lazy_tf, "_available", True) is None:
        lazy_tf._available = False


def _tf_memory_growth() -> None:
    """TensorFlow takes every visible GPU's whole memory at its first op unless told to grow: other
    processes (and the live predictor) then cannot use the GPU. Must run before the GPUs initialise."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (ValueError, RuntimeError):  # already initialised: growth can no longer be changed
            pass


def detect_device() -> str:
    """'GPU: <name>' for the device Keras trains on (the first visible GPU), else 'CPU'."""
    name = backend_name()
    import_keras()
    return {"tensorflow": _tf_device, "jax": _jax_device, "torch": _torch_device}[name]()


def _more(n: int) -> str:
    return f" (+{n - 1} more)" if n > 1 else ""


def _tf_device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    try:
        details = tf.config.experimental.get_device_details(gpus[0])
    except (ValueError, RuntimeError):
        details = {}
    return f"GPU: {details.get('device_name') or gpus[0].name}{_more(len(gpus))}"


def _jax_device() -> str:
    import jax

    devices = jax.devices()
    first = devices[0]
    if first.platform == "cpu":
        return "CPU"
    kind = getattr(first, "device_kind", "") or first.platform
    if first.platform.lower() == "metal":
        kind = f"Apple {kind} (Metal)" if "apple" not in kind.lower() else f"{kind} (Metal)"
    elif "rocm" in str(getattr(first.client, "platform_version", "")).lower():
        kind = f"{kind} (ROCm)"
    return f"GPU: {kind}{_more(len(devices))}"


def _torch_device() -> str:
    import torch

    if torch.cuda.is_available():
        rocm = " (ROCm)" if getattr(torch.version, "hip", None) else ""
        return f"GPU: {torch.cuda.get_device_name(0)}{rocm}{_more(torch.cuda.device_count())}"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "GPU: Apple MPS"
    return "CPU"


def on_gpu(device: str) -> bool:
    return device.startswith("GPU")


REPRODUCIBLE_WHY = ("Same seed, same curves. Free on the CPU; on a GPU it forces deterministic kernels "
                    "(TensorFlow: op determinism, process-wide; PyTorch: deterministic algorithms), which "
                    "are slower, so it is off there unless asked for.")


def resolve_reproducible(setting: bool | None, device: str) -> bool:
    """TrainConfig.reproducible: None means on for the CPU, off for a GPU."""
    return (not on_gpu(device)) if setting is None else bool(setting)


def seed_and_determinism(seed: int, reproducible: bool) -> None:
    """Seed Python, NumPy and the backend; make kernels deterministic when `reproducible`."""
    keras = import_keras()
    keras.utils.set_random_seed(int(seed))
    name = keras.backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        if reproducible:
            tf.config.experimental.enable_op_determinism()
        else:
            _tf_disable_determinism()
    elif name == "torch":
        import torch

        torch.use_deterministic_algorithms(reproducible, warn_only=True)
        torch.backends.cudnn.benchmark = not reproducible
    # JAX: CPU results are deterministic; on a GPU XLA_FLAGS=--xla_gpu_deterministic_ops=true before start.


@cache
def _tf_disable_determinism_fn():
    try:
        from tensorflow.python.framework import config as tf_config

        return getattr(tf_config, "disable_op_determinism", None)
    except ImportError:
        return None


def _tf_disable_determinism() -> None:
    fn = _tf_disable_determinism_fn()
    if fn is not None:
        fn()


def _tf_gradient_registry() -> dict | None:
    """TensorFlow's global table of registered gradient functions, if TensorFlow is loaded."""
    if "tensorflow" not in sys.modules:
        return None
    try:
        from tensorflow.python.framework import ops
    except ImportError:
        return None
    return getattr(getattr(ops, "_gradient_registry", None), "_registry", None)


def custom_gradient_keys() -> frozenset[str]:
    """The names under which TensorFlow has registered the gradients of `tf.custom_gradient` calls
    (empty without TensorFlow). Keras' first fit of a model traces two, see forget_custom_gradients."""
    registry = _tf_gradient_registry()
    if registry is None:
        return frozenset()
    return frozenset(k for k in list(registry) if k.startswith("CustomGradient-"))


def forget_custom_gradients(keys) -> None:
    """Drop these custom-gradient entries from TensorFlow's registry. Each entry's closure keeps the
    whole graph traced by the fit that made it alive for the life of the process (TensorFlow issue
    #97697, still in 2.21): ~17,000 objects and the graph's C++ state per trained model, which every
    later garbage collection scans. An entry is read only while the graph that registered it is
    traced (the gradient of a training step is built inside its trace), so once that model's
    training has finished it can go. Private TensorFlow state, hence the guards."""
    registry = _tf_gradient_registry()
    if registry is None:
        return
    for key in keys:
        registry.pop(key, None)


def training_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a backend raises for a failed fit (bad shapes, out of memory), besides ValueError."""
    name = backend_name()
    out: tuple[type[BaseException], ...] = (ValueError,)
    if name == "tensorflow":
        import tensorflow as tf

        out += (tf.errors.OpError,)
    elif name == "torch":
        out += (RuntimeError,)
    elif name == "jax":
        try:
            from jax.errors import JaxRuntimeError

            out += (JaxRuntimeError,)
        except ImportError:
            out += (RuntimeError,)
    return out


def versions() -> dict[str, str]:
    """The backend library's name and version, for bundle.json and `train --json`."""
    name = backend_name()
    module = sys.modules.get(name)
    return {"keras_backend": name, name: getattr(module, "__version__", "")} if module else {"keras_backend": name}
