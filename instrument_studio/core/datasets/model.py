"""The dataset model: clips with labels, splits and parsed metadata, saved next to the data.

A dataset project is two small human-readable files in one folder:
  instrument-studio.json  name, layout, root of the audio, class names, how the splits were made
  clips.csv               one row per clip: path (relative to root), label, split, source, group,
                          fold, all labels (multi-label sets), metadata as JSON
The JSON is the commit point: it records the SHA-256 of the clip list it goes with. A save writes
the new list beside the old (clips.csv.next), then the JSON, then renames the list into place, so a
kill at any moment leaves either the old pair or a new JSON whose list load_dataset() finishes
moving into place: the two never disagree.
No pickle: a project can be read, diffed and edited by hand.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..fileio import atomic_write_text

PROJECT_FILE = "instrument-studio.json"
CLIPS_FILE = "clips.csv"
PENDING_SUFFIX = ".next"      # clips.csv.next: the list of a save not yet finished
FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
_CSV_FIELDS = ("path", "label", "split", "source", "group", "fold", "labels", "metadata")


@dataclass(frozen=True)
class Clip:
    """One labelled piece of audio (or, for array datasets, one row of an array).

    path: absolute path of the audio file (array rows: "<file>.npy#<row>").
    label: the single class used by single-label training and metrics ("" when a multi-label clip
      has no predominant instrument). labels: every class present (multi-label sets, e.g. IRMAS).
    split: "train", "val" or "test". group: clips sharing a group (one recording, one note) always
      land in the same split. fold: the dataset's own fold number where it has folds (ESC-50).
    metadata: parsed facts such as pitch, midi, dynamic, articulation, duration.
    """

    path: str
    label: str
    split: str = "train"
    source: str = ""
    group: str = ""
    fold: int | None = None
    labels: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)

    @property
    def all_labels(self) -> tuple[str, ...]:
        return self.labels or ((self.label,) if self.label else ())

    @property
    def name(self) -> str:
        return Path(self.path.split("#", 1)[0]).name if "#" in self.path else Path(self.path).name

    def with_split(self, split: str) -> Clip:
        return replace(self, split=split)


@dataclass
class Dataset:
    """A set of clips with class names and splits. `root` is where the audio lies; `folder` is
    where the project files are (often the same folder; a read-only source can be imported
    with its project elsewhere)."""

    name: str
    layout: str
    root: Path
    classes: tuple[str, ...]
    clips: list[Clip]
    split_info: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    notes: list[str] = field(default_factory=list)

    # --- queries --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.clips)

    @property
    def is_arrays(self) -> bool:
        """Feature arrays (course-lab .npy): no audio, extraction is skipped."""
        return self.layout == "npy"

    def split(self, name: str) -> list[Clip]:
        return [c for c in self.clips if c.split == name]

    def counts(self) -> dict[str, dict[str, int]]:
        """{split: {class: n}} over single-label clips (every class listed, zeros included)."""
        out: dict[str, dict[str, int]] = {}
        for split in SPLITS:
            tally = Counter(c.label for c in self.clips if c.split == split and c.label)
            out[split] = {cls: int(tally.get(cls, 0)) for cls in self.classes}
        return out

    def stats(self) -> dict[str, Any]:
        """The facts `dataset stats` prints: classes, counts per split and class, n_train/n_val/n_test."""
        counts = self.counts()
        n = {s: sum(1 for c in self.clips if c.split == s) for s in SPLITS}
        return {
            "name": self.name, "layout": self.layout, "root": str(self.root),
            "classes": list(self.classes), "counts": counts,
            "n_train": n["train"], "n_val": n["val"], "n_test": n["test"],
            "n_clips": len(self.clips),
            "n_unlabelled": sum(1 for c in self.clips if not c.label),
            "split_info": self.split_info,
        }

    # --- files ----------------------------------------------------------------------------
    def save(self, folder: str | Path | None = None) -> Path:
        """Write instrument-studio.json and clips.csv into `folder` (default: self.folder or root)."""
        folder = Path(folder or self.folder or self.root).resolve()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"cannot create the dataset folder: {exc.strerror}", path=folder) from exc
        root = Path(self.root).resolve()
        # Relative when the audio lies in or under the project folder (the pair moves together);
        # absolute when the project was written elsewhere (e.g. beside read-only data).
        root_text = os.path.relpath(root, folder) if root == folder or folder in root.parents else str(root)
        meta = {
            "format": "instrument-studio-dataset", "version": FORMAT_VERSION,
            "name": self.name, "layout": self.layout, "root": Path(root_text).as_posix(),
            "classes": list(self.classes), "split_info": self.split_info, "notes": self.notes,
            "n_clips": len(self.clips), "clips_file": CLIPS_FILE,
        }
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(_CSV_FIELDS)
        for c in self.clips:
            path, sep, row = c.path.partition("#")
            rel = _relative(Path(path), root)
            writer.writerow([rel + sep + row, c.label, c.split, c.source, c.group,
                             "" if c.fold is None else c.fold, ";".join(c.labels),
                             json.dumps(c.metadata, sort_keys=True, separators=(",", ":")) if c.metadata else ""])
        text = buf.getvalue()
        meta["clips_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        pending = folder / (CLIPS_FILE + PENDING_SUFFIX)
        try:
            atomic_write_text(pending, text)
            atomic_write_text(folder / PROJECT_FILE, json.dumps(meta, indent=2))   # the commit point
            os.replace(pending, folder / CLIPS_FILE)
        except OSError as exc:
            raise DatasetError(f"cannot write the dataset project: {exc.strerror or exc}", path=folder) from exc
        self.folder = folder
        return folder / PROJECT_FILE


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_project_target(folder: str | Path, *, source: str | Path | None = None, force: bool = False) -> None:
    """Refuse to write a project into a folder that holds someone else's files: `folder` may be
    missing, empty, one of our projects, or the dataset's own `source` folder (as long as it has
    no clips.csv or instrument-studio.json of its own). `force` writes anyway."""
    folder = Path(folder)
    if force or not folder.exists():
        return
    if not folder.is_dir():
        raise DatasetError("exists and is not a folder; choose another --out", path=folder)
    if is_our_project(folder):
        return
    ours = [name for name in (PROJECT_FILE, CLIPS_FILE) if (folder / name).exists()]
    if ours:
        raise DatasetError(f"holds a {ours[0]} that is not an Instrument Studio dataset project; it would be "
                           "overwritten", path=folder, hint="choose another --out, or add --force")
    same = source is not None and Path(source).resolve() == folder.resolve()
    try:
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise DatasetError(f"cannot read the folder: {exc.strerror}", path=folder) from exc
    if not same and not empty:
        raise DatasetError("is not empty and not a dataset project", path=folder,
                           hint="choose an empty or new folder for --out, or add --force")


def is_our_project(folder: str | Path) -> bool:
    """True when `folder` holds an instrument-studio.json written by us."""
    try:
        meta = json.loads((Path(folder) / PROJECT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == "instrument-studio-dataset"


def _settled_clips(folder: Path, meta: dict) -> Path:
    """The clip list that goes with this JSON. After a save killed between its writes, the JSON
    names the checksum of clips.csv.next: finish the save (or read it in place where the folder is
    read-only). A stale .next from a save killed before its JSON is removed."""
    clips_path = folder / meta.get("clips_file", CLIPS_FILE)
    pending = clips_path.with_name(clips_path.name + PENDING_SUFFIX)
    if not pending.exists():
        return clips_path
    want = meta.get("clips_sha256")
    if want and _file_sha256(pending) == want and _file_sha256(clips_path) != want:
        try:
            os.replace(pending, clips_path)
        except OSError:
            return pending
        return clips_path
    with contextlib.suppress(OSError):
        pending.unlink()
    return clips_path


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def is_dataset_folder(path: str | Path) -> bool:
    p = Path(path)
    return (p / PROJECT_FILE).is_file() or (p.name == PROJECT_FILE and p.is_file())


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset project (its folder or its instrument-studio.json)."""
    path = Path(path)
    project = path if path.name == PROJECT_FILE else path / PROJECT_FILE
    if not project.is_file():
        raise DatasetError(f"no dataset project here (expected {PROJECT_FILE})", path=path,
                           hint="import one first: instrument-studio dataset import SOURCE --out DIR")
    folder = project.parent.resolve()
    try:
        meta = json.loads(project.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read the dataset project: {exc}", path=project) from exc
    if meta.get("format") != "instrument-studio-dataset":
        raise DatasetError("not an Instrument Studio dataset project", path=project)
    root = Path(meta["root"])
    root = (folder / root).resolve() if not root.is_absolute() else root
    clips_path = _settled_clips(folder, meta)
    clips: list[Clip] = []
    try:
        with open(clips_path, newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    clips.append(_clip_from_row(row, root))
                except (KeyError, ValueError) as exc:
                    raise DatasetError(f"line {i} is malformed ({exc})", path=clips_path) from exc
    except OSError as exc:
        raise DatasetError(f"cannot read the clip list: {exc.strerror}", path=clips_path) from exc
    return Dataset(name=meta.get("name", folder.name), layout=meta.get("layout", "folders"), root=root,
                   classes=tuple(meta.get("classes", ())), clips=clips,
                   split_info=meta.get("split_info", {}), folder=folder, notes=list(meta.get("notes", [])))


def _clip_from_row(row: dict[str, str], root: Path) -> Clip:
    rel, sep, idx = row["path"].partition("#")
    p = Path(rel)
    path = str(p if p.is_absolute() else root / p) + sep + idx
    fold = row.get("fold") or ""
    labels = tuple(x for x in (row.get("labels") or "").split(";") if x)
    meta = json.loads(row["metadata"]) if row.get("metadata") else {}
    return Clip(path=path, label=row["label"], split=row["split"], source=row.get("source", ""),
                group=row.get("group", ""), fold=int(fold) if fold else None, labels=labels, metadata=meta)
