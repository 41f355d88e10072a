"""A sweep on disk: the record (configuration + finished runs) saved as JSON and reopened, and
exports for spreadsheets (CSV, one row per run) and scripts (JSON, the runs without curves).

JSON only, never pickle: a sweep file is something users mail to each other.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fileio import atomic_write_text
from .sweep import SweepConfig
from .sweep_results import SweepRun, aggregate

FORMAT = "instrument-studio-sweep"
VERSION = 1
# The columns of the CLI's --json output and of the CSV export, in this order.
EXPORT_FIELDS = ("value", "repeat", "seed", "epochs", "train_seconds", "energy_joules", "energy_source",
                 "cpu_energy_joules", "cpu_energy_source", "test_accuracy", "reached_target",
                 "final_loss", "final_val_loss", "final_accuracy", "final_val_accuracy", "device", "gpu_energy")


@dataclass
class SweepRecord:
    """What a sweep produced so far. status: running | finished | cancelled | failed."""

    config: SweepConfig
    runs: list[SweepRun] = field(default_factory=list)
    status: str = "running"
    message: str = ""
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    host: str = field(default_factory=platform.node)

    def keep_sweep_order(self) -> None:
        """Runs in the sweep's order (SweepConfig.order), however they finished (several devices)."""
        self.runs.sort(key=self.config.place)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "status": self.status, "message": self.message,
                "started": self.started, "host": self.host, "config": self.config.to_dict(),
                "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, train_config: type | None = None) -> SweepRecord:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError("not an Instrument Studio sweep file")
        if int(data.get("version", 0)) > VERSION:
            raise ConfigError(f"sweep file version {data.get('version')} is newer than this app understands")
        config = SweepConfig.from_dict(data["config"], train_config=train_config)
        return cls(config=config, runs=[SweepRun.from_dict(r) for r in data.get("runs", [])],
                   status=str(data.get("status", "finished")), message=str(data.get("message", "")),
                   started=str(data.get("started", "")), host=str(data.get("host", "")))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1, allow_nan=False))
        return path

    @classmethod
    def load(cls, path: str | Path, *, train_config: type | None = None) -> SweepRecord:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read sweep: {exc.strerror}", path=path) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"sweep file is not valid JSON ({exc})", path=path) from exc
        try:
            return cls.from_dict(data, train_config=train_config)
        except ConfigError as exc:
            raise ConfigError(exc.reason, path=path) from exc

    def summaries(self):
        return aggregate(self.runs, self.config.values)

    # --- exports ---------------------------------------------------------------------------
    def export_rows(self) -> list[dict[str, Any]]:
        return [{k: r.summary()[k] for k in EXPORT_FIELDS} for r in self.runs]

    def export_json(self, path: str | Path | None = None) -> str:
        """The runs as a JSON list (no curves); written to `path` when given."""
        text = json.dumps(self.export_rows(), indent=1, allow_nan=False)
        if path is not None:
            atomic_write_text(path, text + "\n")
        return text

    def export_csv(self, path: str | Path | None = None) -> str:
        """One row per run; an unavailable energy is an empty cell (never 0)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=[_csv_name(self.config.param, k) for k in EXPORT_FIELDS],
                                lineterminator="\n")
        writer.writeheader()
        for row in self.export_rows():
            writer.writerow({_csv_name(self.config.param, k): _cell(v) for k, v in row.items()})
        if path is not None:
            atomic_write_text(path, buf.getvalue())
        return buf.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):  # joules per GPU: "GPU 0: NVIDIA H200 (GPU-...)=1234.5; ..."
        return "; ".join(f"{k}={v:.1f}" for k, v in value.items())
    return value


def _csv_name(param: str, key: str) -> str:
    return param if key == "value" else key
