"""The Training panel's run list on disk, so it survives a restart.

One JSON file per run in the user data folder (core.userdirs: `runs/run-0007.json`), written
atomically: settings, curves, figures, the evaluation on the test split, the model summary, and
where the user saved the model (the model itself stays in its bundle; a run read back from here
holds no model). JSON only, never pickle. A damaged file is skipped, not fatal: the rest of the
list still loads.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ..config import FeatureConfig
from ..errors import StudioError
from ..fileio import atomic_write_text
from ..jsonio import read_json
from ..userdirs import user_data_dir
from .runs import SessionRun
from .training import TrainConfig

FORMAT = "instrument-studio-run"
VERSION = 1
_NAME = re.compile(r"^run-(\d+)\.json$")


def default_runs_dir() -> Path:
    return user_data_dir("runs")


def _clean(value: Any) -> Any:
    """Plain JSON: numpy numbers to Python ones, NaN/inf (no validation data) to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _nan(values: list) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def run_to_dict(run: SessionRun) -> dict[str, Any]:
    return _clean({
        "format": FORMAT, "version": VERSION, "id": run.id, "config": run.config.to_dict(),
        "feature_config": run.feature_config.to_dict(), "dataset": run.dataset, "labels": list(run.labels),
        "history": run.history, "metrics": run.metrics, "duration": run.duration, "device": run.device,
        "stop_reason": run.stop_reason, "best_epoch": run.best_epoch, "epochs_run": run.epochs_run,
        "finished_at": run.finished_at, "bundle_path": run.bundle_path, "evaluation": run.evaluation,
        "model_summary": run.model_summary, "data_facts": run.data_facts,
    })


def run_from_dict(data: dict[str, Any]) -> SessionRun:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StudioError("not an Instrument Studio run file")
    if int(data.get("version", 0)) > VERSION:
        raise StudioError(f"run file version {data.get('version')} is newer than this app understands")
    try:
        return SessionRun(
            id=int(data["id"]), config=TrainConfig.from_dict(data["config"]),
            feature_config=FeatureConfig.from_dict(data["feature_config"]), dataset=str(data.get("dataset", "")),
            labels=tuple(str(v) for v in data["labels"]),
            history={str(k): _nan(v) for k, v in dict(data.get("history") or {}).items()},
            metrics={str(k): (float("nan") if v is None else v) for k, v in dict(data.get("metrics") or {}).items()},
            duration=float(data.get("duration") or 0.0), device=str(data.get("device", "")),
            stop_reason=str(data.get("stop_reason", "")), best_epoch=data.get("best_epoch"),
            epochs_run=int(data.get("epochs_run") or 0), finished_at=float(data.get("finished_at") or 0.0),
            bundle_path=data.get("bundle_path"), evaluation=data.get("evaluation"),
            model_summary=data.get("model_summary"), data_facts=data.get("data_facts") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise StudioError(f"run file is incomplete or malformed ({type(exc).__name__}: {exc})") from None


def read_run(path: str | Path) -> SessionRun:
    return run_from_dict(read_json(path, what="run file"))


class RunStore:
    """The run list's folder. `folder` defaults to the user data folder's `runs`."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else default_runs_dir()
        self.problems: list[str] = []    # files skipped by the last load_all(), in words

    def path(self, run_id: int) -> Path:
        return self.folder / f"run-{int(run_id):04d}.json"

    def save(self, run: SessionRun) -> Path:
        path = self.path(run.id)
        atomic_write_text(path, json.dumps(run_to_dict(run), indent=1, allow_nan=False))
        return path

    def remove(self, run_id: int) -> None:
        self.path(run_id).unlink(missing_ok=True)

    def load_all(self) -> list[SessionRun]:
        """Every readable run, oldest id first (no models in memory)."""
        self.problems = []
        if not self.folder.is_dir():
            return []
        runs = []
        for path in sorted(self.folder.iterdir()):
            if not _NAME.match(path.name):
                continue
            try:
                runs.append(read_run(path))
            except StudioError as exc:
                self.problems.append(f"{path.name}: {exc}")
        return sorted(runs, key=lambda r: r.id)

    def next_id(self, runs: list[SessionRun]) -> int:
        return max((r.id for r in runs), default=0) + 1
