"""musicnn embeddings of recipe Items, window by window, cached on disk so a rerun resumes.

Every window is computed by the code that serves prediction: `features.clip_features` with
`config.MUSICNN_FEATURES`, then the musicnn layers of `learn.musicnn`. Isolated notes lose their
leading silence first (a note's attack then falls in the first window, as it does when a musician
plays one); windows quieter than SILENT_DB are left out of training (prediction marks them silent).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetError, StudioError
from ..features.content_index import ContentIndex
from .sources import Item, cache_dir

MUSICNN_WHEEL = "musicnn==0.1.0"
# Windows of a recording quieter than this (RMS, dB re full scale) hold no playing worth learning.
SILENT_DB = -50.0


def part(emb: np.ndarray, parts: tuple[str, ...]) -> np.ndarray:
    """The columns of the chosen parts out of a cached embedding (CACHED_PARTS, in that order)."""
    from ..learn.musicnn import EMBEDDING_PARTS

    starts, at = {}, 0
    for name in CACHED_PARTS:
        starts[name] = at
        at += EMBEDDING_PARTS[name]
    return np.concatenate([emb[:, starts[p]:starts[p] + EMBEDDING_PARTS[p]] for p in parts], axis=1)


@dataclass(frozen=True)
class Embedded:
    """One item's windows: embeddings (windows x every CACHED_PARTS column) and each window's RMS
    level in dB."""

    item: Item
    emb: np.ndarray
    level_db: np.ndarray

    def _playing(self) -> np.ndarray:
        keep = self.level_db > SILENT_DB
        return keep if keep.any() else np.arange(len(self.level_db)) == np.argmax(self.level_db)

    @property
    def playing(self) -> np.ndarray:
        """Embeddings of the windows that are not silent (at least one window)."""
        return self.emb[self._playing()]

    @property
    def playing_power(self) -> np.ndarray:
        """The power (mean square) of each of those windows: what a file's answer weighs them by."""
        return 10 ** (self.level_db[self._playing()].astype(np.float64) / 10)


def checkpoint_dir(name: str = "MTT_musicnn", *, root: Path | None = None) -> Path:
    """The musicnn checkpoint folder `name`, unpacked from the PyPI wheel into the cache (the wheel
    is downloaded with pip once; ISC licence)."""
    root = Path(root) if root is not None else cache_dir() / "musicnn"
    folder = root / name
    if (folder / ".index").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    wheels = sorted(root.glob("musicnn-*.whl"))
    if not wheels:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--dest", str(root), MUSICNN_WHEEL]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise DatasetError(f"cannot download {MUSICNN_WHEEL} from PyPI: {detail.strip().splitlines()[-1:]}",
                               hint="the recipe needs PyPI once; later runs use the cache") from exc
        wheels = sorted(root.glob("musicnn-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as whl:
        members = [m for m in whl.namelist() if m.startswith(f"musicnn/{name}/")]
        if not members:
            raise DatasetError(f"the musicnn wheel has no checkpoint {name!r}", path=wheels[-1])
        tmp = root / f".{name}.part"
        tmp.mkdir(exist_ok=True)
        for m in members:
            target = tmp / Path(m).name
            target.write_bytes(whl.read(m))
        os.replace(tmp, folder)
    return folder


# Every part the embedding offers is cached; the recipe chooses among them (see `part`).
CACHED_PARTS = ("max", "mean", "penultimate", "tags", "mel_mean", "mel_max", "mel_mean_ripple", "mel_max_ripple")


def embedding_model(name: str = "MTT_musicnn", parts: tuple[str, ...] = CACHED_PARTS):
    """The musicnn embedding as a Keras model with the checkpoint's weights (needs TensorFlow to
    read the TF1 checkpoint)."""
    from ..learn.musicnn import build_embedding, checkpoint_weights, load_weights

    model = build_embedding(parts=parts)
    load_weights(model, checkpoint_weights(checkpoint_dir(name)))
    return model


def item_windows(item: Item, *, max_windows: int) -> tuple[np.ndarray, np.ndarray]:
    """(windows, frames, mels) musicnn input of one item and each window's level in dB; at most
    `max_windows`, evenly spread over a long recording."""
    from ..audio.audiofile import load
    from ..config import MUSICNN_FEATURES
    from ..features.clip import clip_features
    from ._audio import trim_leading

    cfg = MUSICNN_FEATURES
    y, sr = load(item.path, sr=cfg.mel.sr)
    if item.kind == "note":
        y = trim_leading(y, sr)
    if item.augment:
        from .augment import augment

        seed = int.from_bytes(hashlib.sha1(f"{Path(item.path).name}|{item.augment}".encode()).digest()[:8], "little")
        y = augment(y, sr, np.random.default_rng(seed))
    x = clip_features(y, cfg)
    hop = int(round(cfg.patch_hop_seconds * sr))
    width = int(round(cfg.patch_seconds * sr))
    if len(x) > max_windows:
        x = x[np.linspace(0, len(x) - 1, max_windows).round().astype(int)]
        starts = np.linspace(0, max(0, len(y) - width), max_windows).round().astype(int)
    else:
        starts = np.arange(len(x)) * hop
    levels = np.array([20 * np.log10(np.sqrt(np.mean(np.square(y[s:s + width], dtype=np.float64))) + 1e-10)
                       if len(y[s:s + width]) else -200.0 for s in starts], dtype=np.float32)
    return x, levels


def _key(item: Item, digest: str, checkpoint: str, max_windows: int) -> str:
    """The cache key of an item's windows: its file's content (not its path or modification time:
    a remounted or copied data folder must not cost a whole re-embedding), and the file name too,
    since an augmented copy's chain is seeded by it."""
    from ..features.cache import FEATURES_VERSION

    text = (f"{digest}|{Path(item.path).name}|{checkpoint}|{max_windows}|{item.kind}|"
            f"{','.join(CACHED_PARTS)}" + (f"|augment{item.augment}" if item.augment else "")
            + f"|features{FEATURES_VERSION}")
    return hashlib.sha1(text.encode()).hexdigest()


def _digests(items: list[Item], root: Path) -> dict:
    """Each item's file content hash (or the OSError reading it), from the cache's content index."""
    return ContentIndex(root / "content-index.sqlite").digests(sorted({i.path for i in items}))


def _cached_path(root: Path, item: Item, digest: str, checkpoint: str, max_windows: int) -> Path:
    return root / f"{_key(item, digest, checkpoint, max_windows)}.npz"


def cached_items(items: Iterable[Item], *, checkpoint: str = "MTT_musicnn", max_windows: int = 8,
                 root: Path | None = None) -> list[Item]:
    """The items whose embeddings are in the cache already (embed_items would read, not compute)."""
    items = list(items)
    root = Path(root) if root is not None else cache_dir() / "embeddings"
    digests = _digests(items, root)
    return [i for i in items if not isinstance(digests[i.path], OSError)
            and _cached_path(root, i, digests[i.path], checkpoint, max_windows).is_file()]


def embed_items(items: Iterable[Item], *, checkpoint: str = "MTT_musicnn", max_windows: int = 8,
                root: Path | None = None, progress: Callable[[int, int, Item], None] | None = None,
                batch: int = 32) -> list[Embedded]:
    """Embeddings of every item (cached per file content and settings). An unreadable file is
    reported on stderr and skipped: one bad file must not end an hour's run."""
    from ..learn.models import inference_call

    items = list(items)
    root = Path(root) if root is not None else cache_dir() / "embeddings"
    root.mkdir(parents=True, exist_ok=True)
    model, call = None, None
    out: list[Embedded] = []
    digests = _digests(items, root)
    for i, item in enumerate(items):
        if progress is not None:
            progress(i, len(items), item)
        digest = digests[item.path]
        if isinstance(digest, OSError):
            print(f"skipped {item.path}: {digest.strerror}", file=sys.stderr)
            continue
        path = _cached_path(root, item, digest, checkpoint, max_windows)
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                out.append(Embedded(item, z["emb"], z["level_db"]))
            continue
        try:
            x, levels = item_windows(item, max_windows=max_windows)
        except StudioError as exc:
            print(f"skipped {item.path}: {exc.reason}", file=sys.stderr)
            continue
        if model is None:
            model = embedding_model(checkpoint)
            call = inference_call(model)
        emb = np.concatenate([np.asarray(call(x[j:j + batch])) for j in range(0, len(x), batch)])
        buf = io.BytesIO()
        np.savez(buf, emb=emb.astype(np.float32), level_db=levels)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)
        out.append(Embedded(item, emb.astype(np.float32), levels))
    return out

