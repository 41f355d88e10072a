"""Recorded takes: `<dataset>/<label>/<timestamp>.wav`, written so that nothing recorded is lost.

A take streams into a hidden `.<timestamp>.wav.part` beside its final name while it records
(libsndfile keeps the WAV readable even if the process dies mid-write), and is fsynced and
renamed into place when it stops. `recover_parts(dataset)` finalises `.part` files left by a
crash or power cut. Renaming a take to another label moves it between class folders; deleting
moves it into `<dataset>/.trash/` so that it can be undone until the trash is emptied.
Dot-prefixed names (`.trash`, `.part` files) are not class folders nor takes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.audiofile import write_error_reason
from ..errors import DatasetError, StudioError

SUBTYPE = "PCM_16"
TRASH = ".trash"
PART_SUFFIX = ".part"
_BAD_LABEL = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def check_label(label: str) -> str:
    """A class label usable as a folder name, stripped; DatasetError otherwise."""
    label = (label or "").strip()
    if not label:
        raise DatasetError("a take needs a class label", hint="type or choose a label")
    if label.startswith(".") or _BAD_LABEL.search(label):
        raise DatasetError(f"{label!r} cannot be a class label",
                           hint="use letters, digits, spaces, '-' or '_' (no / \\ : * ? \" < > | or leading dot)")
    return label


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only"
    return exc.strerror or str(exc)


@dataclass(frozen=True)
class Take:
    path: Path
    label: str
    seconds: float
    samplerate: int


class TakeWriter:
    """Append audio to a take as it arrives; `close()` finalises it into `<dataset>/<label>/`.

    Raises StudioError (with the folder and the reason: read-only, disk full...) when the take
    cannot be created or written; after a write error, `close()` still keeps what was written.
    """

    def __init__(self, *, dataset: str | Path, label: str, samplerate: int, channels: int = 1,
                 max_seconds: float | None = None):
        import soundfile as sf

        self.label = check_label(label)
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.max_frames = None if max_seconds is None else int(round(max_seconds * self.samplerate))
        folder = Path(dataset) / self.label
        self.path = _unique(folder, time.strftime("%Y%m%d-%H%M%S"))
        self.part = folder / f".{self.path.name}{PART_SUFFIX}"
        self.frames = 0
        self.error: str | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._file = sf.SoundFile(str(self.part), "w", samplerate=self.samplerate,
                                      channels=self.channels, subtype=SUBTYPE, format="WAV")
        except (OSError, sf.LibsndfileError) as exc:
            reason = _os_reason(exc) if isinstance(exc, OSError) else _sf_reason(folder)
            raise StudioError(f"cannot record into this folder: {reason}", path=folder,
                              hint="choose another dataset folder") from exc
        self._last_flush = time.monotonic()

    @property
    def seconds(self) -> float:
        return self.frames / self.samplerate

    @property
    def full(self) -> bool:
        return self.max_frames is not None and self.frames >= self.max_frames

    def write(self, block: np.ndarray) -> bool:
        """Append frames; True while the take wants more (False once max_seconds is reached)."""
        if self._file is None or self.error:
            return False
        if self.max_frames is not None:
            block = block[: max(0, self.max_frames - self.frames)]
        if len(block):
            try:
                self._file.write(block)
                # Flushed about once a second so that a crash loses at most that much.
                now = time.monotonic()
                if now - self._last_flush > 1.0:
                    self._file.flush()
                    self._last_flush = now
            except (OSError, RuntimeError) as exc:
                reason = write_error_reason(exc, self.part.parent)  # not libsndfile's "System error."
                self.error = reason
                raise StudioError(f"recording stopped: {reason}; the first {self.seconds:.1f} s are kept",
                                  path=self.path, hint="free some space or choose another dataset folder") \
                    from exc
            self.frames += len(block)
        return not self.full

    def close(self) -> Take | None:
        """Finalise: the take at `self.path`, or None (and no file) if nothing was recorded."""
        f, self._file = self._file, None
        if f is None:
            return None
        try:
            f.close()
        except Exception:  # a full disk can fail the header update; the data is on disk
            pass
        if self.frames == 0:
            with contextlib.suppress(OSError):
                self.part.unlink()
            return None
        return _finalise_part(self.part, self.path, label=self.label)

    def abort(self) -> None:
        """Stop without keeping anything (used only when the user cancels an empty take)."""
        f, self._file = self._file, None
        if f is not None:
            with contextlib.suppress(Exception):
                f.close()
        with contextlib.suppress(OSError):
            self.part.unlink()


def _sf_reason(folder: Path) -> str:
    if not os.access(folder, os.W_OK):
        return "the folder is read-only"
    return "the file could not be created"


def _unique(folder: Path, stem: str) -> Path:
    path = folder / f"{stem}.wav"
    n = 2
    while path.exists() or (folder / f".{path.name}{PART_SUFFIX}").exists():
        path = folder / f"{stem}-{n}.wav"
        n += 1
    return path


def _finalise_part(part: Path, final: Path, *, label: str) -> Take:
    import soundfile as sf

    try:
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        info = sf.info(str(part))
        if info.frames <= 0:
            raise StudioError("the unfinished take holds no audio", path=part)
        os.replace(part, final)
    except OSError as exc:
        raise StudioError(f"cannot finish the take: {_os_reason(exc)}; the audio is kept in {part.name}",
                          path=part.parent) from exc
    return Take(path=final, label=label, seconds=info.frames / info.samplerate, samplerate=info.samplerate)


_PART_NAME = re.compile(r"^\.(\d{8}-\d{6}(?:-\d+)?)\.wav\.part$")


def recover_parts(dataset: str | Path) -> list[Take]:
    """Finalise unfinished takes (`.<timestamp>.wav.part`) left in the dataset's class folders.

    A part left by a crash has a WAV header that still says "empty" (libsndfile reads it by the
    file's length); it is rewritten with a correct header, atomically, then the part removed.
    """
    import soundfile as sf

    from ..audio.audiofile import save_wav

    dataset = Path(dataset)
    out = []
    if not dataset.is_dir():
        return out
    for part in sorted(dataset.glob(f"*/.*.wav{PART_SUFFIX}")):
        m = _PART_NAME.match(part.name)
        if m is None or part.parent.name.startswith("."):
            continue
        final = part.parent / f"{m.group(1)}.wav"
        if final.exists():
            final = _unique(part.parent, f"{m.group(1)}-recovered")
        try:
            data, sr = sf.read(str(part), dtype="float32", always_2d=True)
            if len(data) == 0:
                continue
            save_wav(final, data, sr, subtype=sf.info(str(part)).subtype)
            part.unlink()
        except Exception:
            continue  # an unreadable leftover stays where it is for a person to look at
        out.append(Take(path=final, label=part.parent.name, seconds=len(data) / sr, samplerate=sr))
    return out


def list_takes(dataset: str | Path) -> list[Take]:
    """Every WAV take in the dataset's class folders, newest first."""
    import soundfile as sf

    dataset = Path(dataset)
    takes = []
    if not dataset.is_dir():
        return takes
    for path in dataset.glob("*/*.wav"):
        if path.parent.name.startswith(".") or path.name.startswith("."):
            continue
        try:
            info = sf.info(str(path))
        except Exception:
            continue
        takes.append(Take(path=path, label=path.parent.name, seconds=info.frames / info.samplerate,
                          samplerate=info.samplerate))
    takes.sort(key=lambda t: t.path.stat().st_mtime, reverse=True)
    return takes


def rename_take(path: str | Path, new_label: str) -> Path:
    """Move a take into the folder of another class label (same dataset); its new path."""
    path = Path(path)
    label = check_label(new_label)
    if path.parent.name == label:
        return path
    folder = path.parent.parent / label
    target = folder / path.name
    if target.exists():
        target = _unique(folder, path.stem)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)  # same file system: atomic, the take is never in two places
    except OSError as exc:
        raise StudioError(f"cannot move the take to {label!r}: {_os_reason(exc)}", path=path) from exc
    return target


@dataclass(frozen=True)
class DeletedTake:
    """What `delete_take` did, for `undo_delete`."""

    original: Path
    trashed: Path


def delete_take(path: str | Path) -> DeletedTake:
    """Move a take into `<dataset>/.trash/<label>/` (undoable until `empty_trash`)."""
    path = Path(path)
    trash = path.parent.parent / TRASH / path.parent.name
    target = trash / path.name
    n = 2
    while target.exists():
        target = trash / f"{path.stem}-{n}{path.suffix}"
        n += 1
    try:
        trash.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)
    except OSError as exc:
        raise StudioError(f"cannot delete the take: {_os_reason(exc)}", path=path) from exc
    return DeletedTake(original=path, trashed=target)


def undo_delete(deleted: DeletedTake) -> Path:
    """Put a deleted take back where it was (beside it if that name was reused meanwhile)."""
    target = deleted.original
    if target.exists():
        target = _unique(target.parent, target.stem)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(deleted.trashed, target)
    except OSError as exc:
        raise StudioError(f"cannot restore the take: {_os_reason(exc)}", path=deleted.trashed) from exc
    return target


def empty_trash(dataset: str | Path) -> None:
    """Really delete what `delete_take` moved aside."""
    trash = Path(dataset) / TRASH
    if trash.is_dir():
        shutil.rmtree(trash, ignore_errors=True)


def list_labels(dataset: str | Path) -> list[str]:
    """The class labels (sub-folders) a dataset folder already has, sorted."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        return []
    return sorted(p.name for p in dataset.iterdir() if p.is_dir() and not p.name.startswith("."))


def prepare_dataset(dataset: str | Path) -> tuple[list[str], list[Take]]:
    """What the take recorder needs when a dataset folder is chosen: its labels, and any
    unfinished takes from a crash, now recovered."""
    recovered = recover_parts(dataset)
    return list_labels(dataset), recovered
