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
import stat
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


# What instrument-studio.json must look like (JSON Schema, checked with jsonschema).
PROJECT_SCHEMA = {
    "type": "object",
    "required": ["format", "root"],
    "properties": {
        "format": {"const": "instrument-studio-dataset"},
        "version": {"type": "integer"},
        "name": {"type": "string"},
        "layout": {"type": "string"},
        "root": {"type": "string", "minLength": 1},
        "classes": {"type": "array", "items": {"type": "string"}},
        "split_info": {"type": "object"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "n_clips": {"type": "integer", "minimum": 0},
        # A file name beside the project, never a path elsewhere.
        "clips_file": {"type": "string", "pattern": "^[^/\\\\]+$"},
        # SHA-256 of the clip list this JSON commits (see the module docstring).
        "clips_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset project (its folder or its instrument-studio.json). Anything malformed, in
    either file, is one DatasetError line naming the file (and the line of clips.csv)."""
    from ..jsonio import read_json

    path = Path(path)
    project = path if path.name == PROJECT_FILE else path / PROJECT_FILE
    if not project.is_file():
        raise DatasetError(f"no dataset project here (expected {PROJECT_FILE})", path=path,
                           hint="import one first: instrument-studio dataset import SOURCE --out DIR")
    folder = project.parent.resolve()
    meta = read_json(project, error=DatasetError, what=PROJECT_FILE)
    if not isinstance(meta, dict) or meta.get("format") != "instrument-studio-dataset":
        raise DatasetError("not an Instrument Studio dataset project", path=project)
    from ..jsonio import schema_problem

    if (problem := schema_problem(meta, PROJECT_SCHEMA, what=PROJECT_FILE)) is not None:
        raise DatasetError(problem, path=project)
    root = Path(meta["root"])
    root = (folder / root).resolve() if not root.is_absolute() else root
    clips_path = _settled_clips(folder, meta)
    clips = _read_clips(clips_path, root)
    expected = meta.get("n_clips")
    if expected is not None and expected != len(clips):
        raise DatasetError(f"holds {len(clips)} clips but {PROJECT_FILE} says {expected}: the file is cut short "
                           "or was edited", path=clips_path,
                           hint=f"if you edited it by hand, set n_clips in {PROJECT_FILE} to {len(clips)}")
    return Dataset(name=meta.get("name", folder.name), layout=meta.get("layout", "folders"), root=root,
                   classes=tuple(meta.get("classes", ())), clips=clips,
                   split_info=meta.get("split_info", {}), folder=folder, notes=list(meta.get("notes", [])))


def _read_clips(clips_path: Path, root: Path) -> list[Clip]:
    """clips.csv, row by row: a pipe is not waited on, binary data, NUL bytes, a field past
    the csv module's field limit (128 KiB), a row cut short and an unknown split are each refused with their line."""
    try:
        fd = os.open(clips_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise DatasetError("the clip list is missing", path=clips_path) from None
    except OSError as exc:
        raise DatasetError(f"cannot read the clip list: {exc.strerror}", path=clips_path) from None
    clips: list[Clip] = []
    line = 1
    try:
        with os.fdopen(fd, "rb") as raw:
            if not stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                raise DatasetError("the clip list is not a regular file (a pipe, device or folder)", path=clips_path)
            fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if header is None:
                raise DatasetError("the clip list is empty (no header line)", path=clips_path)
            if "path" not in header or "label" not in header or "split" not in header:
                raise DatasetError("the clip list's header lacks path, label or split: not a clips.csv",
                                   path=clips_path)
            for fields in reader:
                line = reader.line_num
                if any("\0" in f for f in fields):
                    raise DatasetError(f"line {line} holds NUL bytes: the file is corrupt", path=clips_path)
                if len(fields) != len(header):
                    raise DatasetError(f"line {line} has {len(fields)} fields, the header {len(header)}: "
                                       "the file is cut short or corrupt", path=clips_path)
                try:
                    clips.append(_clip_from_row(dict(zip(header, fields, strict=True)), root))
                except (KeyError, ValueError, TypeError, RecursionError) as exc:
                    raise DatasetError(f"line {line} is malformed ({' '.join(str(exc).split())[:120]})",
                                       path=clips_path) from None
    except UnicodeDecodeError:
        raise DatasetError(f"line {line + 1} is not UTF-8 text: the file is binary or corrupt", path=clips_path) from None
    except csv.Error as exc:
        raise DatasetError(f"line {line + 1} is not valid CSV ({exc})", path=clips_path) from None
    except OSError as exc:
        raise DatasetError(f"cannot read the clip list: {exc.strerror}", path=clips_path) from None
    return clips


def _clip_from_row(row: dict[str, str], root: Path) -> Clip:
    rel, sep, idx = row["path"].partition("#")
    p = Path(rel)
    path = str(p if p.is_absolute() else root / p) + sep + idx
    fold = row.get("fold") or ""
    labels = tuple(x for x in (row.get("labels") or "").split(";") if x)
    meta = json.loads(row["metadata"]) if row.get("metadata") else {}
    if row["split"] not in SPLITS:
        raise ValueError(f"unknown split {row['split']!r}; use {', '.join(SPLITS)}")
    if not isinstance(meta, dict):
        raise ValueError("metadata is not a JSON object")
    return Clip(path=path, label=row["label"], split=row["split"], source=row.get("source", ""),
                group=row.get("group", ""), fold=int(fold) if fold else None, labels=labels, metadata=meta)
