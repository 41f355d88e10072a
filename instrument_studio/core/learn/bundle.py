"""Model bundles: a trained model plus everything needed to use it again, in one folder.

    BUNDLE/
      model.keras     the Keras model (architecture + weights), loaded with safe_mode=True
      bundle.json     format version, labels, FeatureConfig, standardisation mean/std, TrainConfig,
                      history, metrics, library versions, and the size and SHA-256 of model.keras

The folder is written beside its final place and renamed into it, so a reader sees the old bundle or
the new one, never a mixture; a save killed between its two renames, or before them, is finished or
undone by the next load or save of that name (recover_interrupted_swap). Loading checks the format version, the checksum and every field before
the model is built, and only then returns: a corrupt, truncated or incompatible bundle raises
ModelError and nothing is half-loaded. No pickle anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..config import FeatureConfig
from ..errors import ConfigError, ModelError, StudioError
from ..features.featureset import standardise
from ..fileio import chmod_to_umask
from ..jsonio import read_json, schema_problem
from .backend import import_keras

FORMAT = "instrument-studio-bundle"
FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
META_FILE = "bundle.json"


def library_versions() -> dict[str, str]:
    from ... import __version__

    versions = {"instrument-studio": __version__, "python": platform.python_version()}
    for dist in ("keras", "tensorflow", "tensorflow-cpu", "jax", "torch", "numpy", "librosa", "scikit-learn"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    import sys

    if sys.modules.get("keras") is not None:  # which backend saved it (any backend loads it)
        versions["keras_backend"] = sys.modules["keras"].backend.backend()
    return versions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    """Numbers from numpy/Keras into plain JSON; NaN (no validation data) into null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _stats(array: np.ndarray | None) -> dict | None:
    if array is None:
        return None
    array = np.asarray(array, dtype=np.float32)
    # float32 -> Python float -> JSON repr -> float32 is exact, so predictions match after reload.
    return {"shape": list(array.shape), "values": array.ravel().astype(float).tolist()}


def save_bundle(path: str | Path, *, model, labels, feature_config: FeatureConfig, mean, std,
                train_config=None, history: dict | None = None, metrics: dict | None = None,
                unknown_threshold: float | None = None, confident_threshold: float | None = None,
                extra_files: dict[str, str] | None = None, report: dict | None = None) -> Path:
    """Write BUNDLE folder `path` atomically (replacing an existing bundle there). `extra_files`:
    name -> text written inside it in the same swap (a model card), never a separate step. `report`:
    what the run report reads besides history and metrics (test-split evaluation, model summary,
    data facts)."""
    path = Path(path)
    check_bundle_target(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".part", dir=parent))
    except OSError as exc:
        raise ModelError(f"cannot write here: {exc.strerror}", path=path) from exc
    try:
        model_path = tmp / MODEL_FILE
        try:
            model.save(model_path)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot save the model: {exc}", path=path) from exc
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "labels": [str(label) for label in labels],
            "feature_config": feature_config.to_dict(),
            "input_shape": [int(d) for d in model.input_shape[1:]],
            "mean": _stats(mean), "std": _stats(std),
            "train_config": None if train_config is None else train_config.to_dict(),
            "history": _jsonable(history or {}), "metrics": _jsonable(metrics or {}),
            "unknown_threshold": None if unknown_threshold is None else float(unknown_threshold),
            "confident_threshold": None if confident_threshold is None else float(confident_threshold),
            "versions": library_versions(),
            **({"report": _jsonable(report)} if report else {}),
            "model_file": {"name": MODEL_FILE, "bytes": model_path.stat().st_size, "sha256": _sha256(model_path)},
        }
        for name, text in (extra_files or {}).items():
            if Path(name).name != name or name in (MODEL_FILE, META_FILE):
                raise ModelError(f"cannot add {name!r} to a bundle", path=path)
            (tmp / name).write_text(text, encoding="utf-8")
        with open(tmp / META_FILE, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        _swap_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _swap_into_place(tmp: Path, path: Path) -> None:
    """Rename the finished folder into place; an existing bundle is moved aside first (to
    .NAME.old-PID) and removed only after the new one is in place. A kill between the two renames
    leaves both hidden beside `path`: recover_interrupted_swap() puts the new one in place."""
    chmod_to_umask(tmp, directory=True)   # mkdtemp made it 0700
    old = None
    try:
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
        os.replace(tmp, path)
    except OSError as exc:
        if old is not None and not path.exists():
            os.replace(old, path)
        raise ModelError(f"cannot write the bundle: {exc.strerror}", path=path) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _empty_folder(path: Path) -> bool:
    return path.is_dir() and next(path.iterdir(), None) is None


def check_bundle_target(path: str | Path) -> None:
    """Raise ModelError unless a bundle can be saved at `path`: not an existing folder or file that
    is not a bundle (an empty folder will do: one made for it), and a place this process may write.
    Cheap, so callers check before training (an hour of epochs should not end in "cannot write here")."""
    path = Path(path)
    recover_interrupted_swap(path)
    if path.exists() and not (path / META_FILE).is_file() and not _empty_folder(path):
        raise ModelError("exists and is not a model bundle; choose another place", path=path)
    probe_in = (path.parent if str(path.parent) else Path(".")).absolute()
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        raise ModelError(f"{probe_in} is a file, not a folder; choose another place", path=path)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".instrument-studio-probe-", dir=probe_in))
    except OSError as exc:
        raise ModelError(f"cannot write here: {exc.strerror}", path=path,
                         hint="choose a folder you can write to") from exc


# A model is given at most this many bytes of input rows at once: its activations grow with the
# input (a 72 KB musicnn window holds ~20 MB of them at the peak), so a batch is bounded by the size
# of its rows, not their number. Measured with the default model (`bench/predict.py --long-minutes`):
# 10 min of audio took 5.5 GB above the loaded app at Keras' 256 rows a call, 0.58 GB at 8 (30 min:
# 0.68 GB), as fast; 5 min: 8 windows +0.2 GB, 16 +0.3, 32 +0.7, 64 +1.4.
BATCH_INPUT_BYTES = 600_000
MOST_ROWS_PER_CALL = 256


def rows_per_call(row_shape: tuple[int, ...]) -> int:
    """How many float32 rows of `row_shape` a model call may take (BATCH_INPUT_BYTES)."""
    row_bytes = 4 * math.prod(int(d) for d in row_shape)
    return int(max(1, min(MOST_ROWS_PER_CALL, BATCH_INPUT_BYTES // max(1, row_bytes))))


STALE_PART_SECONDS = 3600   # a .part folder without an owner's PID in its name is stale after this


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True     # it exists, owned by someone else
    return True


def _owner_gone(hidden: Path, pid: str | None) -> bool:
    """Whether the save that made `hidden` (.NAME.old-PID or .NAME.PID-XXXX.part) has ended."""
    if pid:
        return not _pid_alive(int(pid))
    try:   # a part from before PIDs were in the name: stale once old
        return time.time() - hidden.stat().st_mtime > STALE_PART_SECONDS
    except OSError:
        return False


def _complete(folder: Path) -> bool:
    """A finished bundle folder: bundle.json (written last) names model.keras's size and checksum."""
    try:
        info = json.loads((folder / META_FILE).read_text(encoding="utf-8"))["model_file"]
        model = folder / MODEL_FILE
        return model.stat().st_size == info["bytes"] and _sha256(model) == info["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def recover_interrupted_swap(path: str | Path) -> str | None:
    """Finish or undo a save of bundle `path` that was killed, and remove what it left behind.

    Killed between the two renames, neither name exists: the finished new folder
    (.NAME.PID-XXXX.part) is moved into place, else the old bundle (.NAME.old-PID) is put back.
    Leftover .part and .old folders of saves whose process has ended are then removed (saves still
    running in another process are left alone). Returns what was done, in words, or None."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    name = re.escape(path.name)
    old_re = re.compile(rf"\.{name}\.old-(\d+)")
    part_re = re.compile(rf"\.{name}\.(?:(\d+)-)?[a-z0-9_]+\.part")
    olds, parts = [], []
    try:
        for p in parent.iterdir():
            if (m := old_re.fullmatch(p.name)) and _owner_gone(p, m.group(1)):
                olds.append(p)
            elif (m := part_re.fullmatch(p.name)) and p.is_dir() and _owner_gone(p, m.group(1)):
                parts.append(p)
    except OSError:
        return None
    done = None
    try:
        if not path.exists() and (olds or parts):
            finished = sorted((p for p in parts if _complete(p)), key=lambda p: p.stat().st_mtime)
            if finished:
                os.replace(finished[-1], path)
                done = "an interrupted save was finished"
            elif olds:
                os.replace(olds[-1], path)
                done = "an interrupted save was undone (the previous bundle is back)"
        for leftover in olds + parts:
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    except OSError:
        return done   # a read-only folder: leave it as it is
    return done


@dataclass
class Bundle:
    path: Path
    model: Any
    labels: tuple[str, ...]
    feature_config: FeatureConfig
    mean: np.ndarray | None
    std: np.ndarray | None
    train_config: dict | None
    history: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    # Below this probability of its best class the answer is "unknown" (predict.inference.decide).
    unknown_threshold: float | None = None
    # From this probability of its best class a live answer is shown as confident (None: the
    # predictor's general default); a calibrated model's probabilities run lower than a raw one's.
    confident_threshold: float | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.model.input_shape[1:])

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return standardise(x, self.mean, self.std)

    def predict_proba(self, x_features: np.ndarray, *, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities (rows x classes) for raw features, standardised as in training, in
        batches of `batch_size` rows (None: `rows_per_call`)."""
        x = np.asarray(x_features, dtype=np.float32)
        if tuple(x.shape[1:]) != self.input_shape:
            raise ModelError(f"features of shape {tuple(x.shape[1:])} do not fit this model's input "
                             f"{self.input_shape}", path=self.path)
        batch_size = batch_size or rows_per_call(self.input_shape)
        return np.asarray(self.model.predict(self.standardise(x), batch_size=batch_size, verbose=0))


_STATS = {
    "description": "null or an object with 'shape' and 'values'",
    "oneOf": [
        {"type": "null"},
        {"type": "object", "required": ["shape", "values"],
         "properties": {"shape": {"type": "array", "maxItems": 8, "items": {"type": "integer", "minimum": 1}},
                        "values": {"type": "array", "minItems": 1, "items": {"type": "number"}}}},
    ],
}
# What bundle.json must look like (JSON Schema, checked with jsonschema). Unknown top-level keys
# are allowed (a newer minor writer may add one); known keys must have their shape.
BUNDLE_SCHEMA = {
    "type": "object",
    "required": ["format", "format_version", "labels", "feature_config", "model_file"],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"type": "integer"},
        "labels": {"type": "array", "minItems": 2, "uniqueItems": True,
                   "items": {"type": "string", "minLength": 1, "maxLength": 200}},
        "feature_config": {
            "type": "object", "required": ["kind", "mel"],
            "properties": {"kind": {"type": "string"}, "mel": {"type": "object", "minProperties": 1}},
        },
        "input_shape": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        "mean": _STATS, "std": _STATS,
        "train_config": {"type": ["object", "null"]},
        "history": {"type": ["object", "null"]},
        "metrics": {"type": ["object", "null"]},
        "versions": {"type": "object", "additionalProperties": {"type": "string"}},
        "model_file": {
            "type": "object", "required": ["bytes", "sha256"],
            "properties": {"name": {"type": "string"}, "bytes": {"type": "integer", "minimum": 1},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        },
        # Probabilities below it are answered "unknown" (the default model's open-set rule).
        "unknown_threshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "confident_threshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "report": {"type": "object"},
    },
}


def _array(stats: dict | None, name: str, path: Path) -> np.ndarray | None:
    if stats is None:
        return None
    values, shape = stats["values"], tuple(stats["shape"])
    if len(values) != math.prod(shape):
        raise ModelError(f"standardisation {name} in bundle.json is malformed ({len(values)} values for "
                         f"shape {shape})", path=path)
    with np.errstate(over="ignore"):
        array = np.asarray(values, dtype=np.float32).reshape(shape)
    if not np.all(np.isfinite(array)):
        raise ModelError(f"standardisation {name} in bundle.json holds values that are not finite", path=path)
    return array


def _statistics(meta: dict, path: Path) -> tuple[np.ndarray | None, np.ndarray | None]:
    """mean and std, both or neither; std strictly positive (a zero would divide by zero and the
    CLI would answer "piano (nan%)")."""
    mean, std = _array(meta.get("mean"), "mean", path), _array(meta.get("std"), "std", path)
    if (mean is None) != (std is None):
        given, missing = ("std", "mean") if mean is None else ("mean", "std")
        raise ModelError(f"bundle.json gives a standardisation {given} but no {missing}", path=path)
    if std is not None and np.any(std <= 0):
        raise ModelError(f"standardisation std in bundle.json has {int(np.sum(std <= 0))} value(s) of zero or "
                         "less: features cannot be divided by them", path=path)
    return mean, std


def read_bundle_meta(path: str | Path) -> dict:
    """bundle.json, checked for format and version (cheap: no Keras). For lists of saved models."""
    path = Path(path)
    recover_interrupted_swap(path)
    meta_path = path / META_FILE
    if not path.exists():
        raise ModelError("no such model bundle", path=path)
    if not meta_path.is_file():
        raise ModelError(f"not a model bundle (no {META_FILE} inside)", path=path)
    meta = read_json(meta_path, error=ModelError, what=META_FILE)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{META_FILE} is not an Instrument Studio bundle description", path=path)
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise ModelError("bundle format version missing", path=path)
    if version > FORMAT_VERSION:
        raise ModelError(f"made by a newer Instrument Studio (bundle format {version}; this version reads "
                         f"up to {FORMAT_VERSION})", path=path, hint="update Instrument Studio")
    if version < 1:
        raise ModelError(f"unknown bundle format version {version}", path=path)
    if (problem := schema_problem(meta, BUNDLE_SCHEMA, what=META_FILE)) is not None:
        raise ModelError(problem, path=path)
    return meta


def load_bundle(path: str | Path) -> Bundle:
    """Load and check a bundle completely, or raise ModelError saying what is wrong."""
    path = Path(path)
    meta = read_bundle_meta(path)
    labels = meta["labels"]   # the schema has checked every field's shape
    try:
        feature_config = FeatureConfig.from_dict(meta["feature_config"])
    except ConfigError as exc:
        raise ModelError(f"feature config in bundle.json is invalid: {exc.reason}", path=path) from exc
    mean, std = _statistics(meta, path)
    info = meta["model_file"]
    model_path = path / MODEL_FILE
    if not model_path.is_file():
        raise ModelError(f"{MODEL_FILE} is missing from the bundle", path=path)
    size = model_path.stat().st_size
    if size != info.get("bytes"):
        raise ModelError(f"{MODEL_FILE} is truncated or altered ({size} bytes, expected {info.get('bytes')})",
                         path=path)
    try:
        digest = _sha256(model_path)
    except OSError as exc:
        raise ModelError(f"{MODEL_FILE} cannot be read: {exc.strerror or exc}", path=path) from None
    if digest != info.get("sha256"):
        raise ModelError(f"{MODEL_FILE} is corrupt (checksum mismatch)", path=path)
    if not zipfile.is_zipfile(model_path):
        # Keras would say "File not found" of a file that is there but is no .keras (zip) archive.
        raise ModelError(f"the Keras model cannot be loaded: {MODEL_FILE} is not a .keras (zip) archive "
                         "(truncated or corrupt)", path=path)
    model = _load_keras(model_path, path, saved_with=(meta.get("versions") or {}).get("keras"))
    out_classes = int(model.output_shape[-1])
    if out_classes != len(labels):
        raise ModelError(f"the model predicts {out_classes} classes but the bundle names {len(labels)}", path=path)
    input_shape = tuple(int(d) for d in model.input_shape[1:])
    for name, stats in (("mean", mean), ("std", std)):
        if stats is None or not stats.shape:
            continue
        try:
            fits = np.broadcast_shapes(stats.shape, input_shape) == input_shape
        except ValueError:
            fits = False
        if not fits:
            raise ModelError(f"standardisation {name} of shape {stats.shape} does not fit the model input "
                             f"{input_shape}", path=path)
    return Bundle(path=path, model=model, labels=tuple(labels), feature_config=feature_config, mean=mean, std=std,
                  train_config=meta.get("train_config"), history=meta.get("history") or {},
                  metrics=meta.get("metrics") or {}, versions=meta.get("versions") or {},
                  unknown_threshold=_threshold(meta, "unknown_threshold", path),
                  confident_threshold=_threshold(meta, "confident_threshold", path))


def _threshold(meta: dict, key: str, path: Path) -> float | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ModelError(f"bundle.json {key} must be a probability between 0 and 1", path=path)
    return float(value)


def _load_keras(model_path: Path, bundle: Path, *, saved_with: str | None):
    keras = import_keras()
    try:
        # compile=False: inference needs no optimizer state, and it avoids rebuilding one.
        return keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except StudioError:
        raise
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds here; every one means "unusable"
        hint = None
        if saved_with and saved_with.split(".")[0] != keras.__version__.split(".")[0]:
            hint = f"saved with Keras {saved_with}, this is Keras {keras.__version__}"
        raise ModelError(f"the Keras model cannot be loaded ({type(exc).__name__}: {_keras_detail(exc)})",
                         path=bundle, hint=hint) from exc


_NOT_DESERIALIZED = re.compile(r"<class '(?:[\w.]*\.)?(\w+)'> could not be deserialized")


def _keras_detail(exc: BaseException, limit: int = 200) -> str:
    """Keras' load error on one short line. Its messages run over several lines and nest: each
    layer that fails quotes its whole config, then "Exception encountered:" and the inner error.
    Kept: the chain of classes that failed (Sequential > Lambda) and the innermost reason."""
    parts = " ".join(str(exc).split()).split(" Exception encountered: ")
    classes = [m.group(1) for part in parts if (m := _NOT_DESERIALIZED.match(part))]
    detail = parts[-1]
    if classes and not _NOT_DESERIALIZED.match(detail):
        detail = f"{' > '.join(classes)} could not be deserialized: {detail}"
    elif classes:
        detail = f"{' > '.join(classes)} could not be deserialized"
    return detail if len(detail) <= limit else detail[:limit - 1] + "…"
