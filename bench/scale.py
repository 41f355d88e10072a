"""Scale benchmarks (issue 16): a cached extraction that reads no audio, and training through the
streamed feature store against the in-memory path.

    python bench/scale.py cached [--limit 3000] [--kind mfcc]
        cold then cached extraction over Philharmonia files into a fresh cache folder; the cached
        run's audio bytes read (Python-level opens of the audio files, and bytes hashed) and time.
    python bench/scale.py store --clips 100000 [--steps 60] [--subset 12000]
        writes 100,000 generated clips of mel-patch features straight into a store (no audio),
        then trains the Han 2017 CNN through the store (child process: peak RSS, rows/s) and,
        on a subset that fits, through the in-memory path (peak RSS, rows/s); prints the in-memory
        path's projected peak for the whole set beside the store's measured one.
    python bench/scale.py predict [--files 60] [--workers 2] [--dask]
        folder prediction on one core, in one process, and on --workers processes (and a LocalCluster).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".aif", ".aiff", ".m4a")


def _rchar() -> int:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def cached(args) -> int:
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.datasets import import_dataset
    from instrument_studio.core.features import content_index as ci
    from instrument_studio.core.features.extraction import extract

    data = Path(args.data)
    if not data.is_dir():
        print(f"no data at {data} (the development recordings live in ../shared/data)", file=sys.stderr)
        return 2
    ds = import_dataset(data)
    step = max(1, len(ds.clips) // args.limit)
    ds.clips = ds.clips[::step][: args.limit]
    paths = {c.path for c in ds.clips}
    audio_bytes = sum(os.path.getsize(p) for p in paths)
    print(f"{len(paths)} files ({audio_bytes / 1e6:.0f} MB of audio) from {data}; kind {args.kind}")
    opened: dict[str, int] = {}

    def hook(event, hook_args):
        if event == "open" and isinstance(hook_args[0], str | bytes | os.PathLike):
            p = os.fsdecode(hook_args[0])
            if p.lower().endswith(AUDIO_SUFFIXES):
                opened[p] = opened.get(p, 0) + 1

    sys.addaudithook(hook)
    cfg = FeatureConfig(kind=args.kind)
    hashed = []
    real_digests = ci.ContentIndex.digests

    def digests(self, *a, **k):
        out = real_digests(self, *a, **k)
        hashed.append((self.hashed, self.bytes_hashed))
        return out

    ci.ContentIndex.digests = digests
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or tmp
        t = time.perf_counter()
        cold = extract(ds, cfg, workers=args.workers, cache_dir=cache)
        t_cold = time.perf_counter() - t
        print(f"{'first' if args.cache_dir else 'cold'}:   {cold.report.summary()} ({t_cold:.1f} s)", flush=True)
        rows = []
        for run in range(args.repeat):
            opened.clear()
            r0 = _rchar()
            t, c = time.perf_counter(), time.process_time()
            warm = extract(ds, cfg, workers=args.workers, cache_dir=cache)
            t_warm, cpu = time.perf_counter() - t, time.process_time() - c
            rchar = _rchar() - r0
            audio_read = sum(os.path.getsize(p) for p in opened)
            rows.append({"seconds": round(t_warm, 3), "cpu_seconds": round(cpu, 3), "computed": warm.report.n_computed,
                         "cached": warm.report.n_cached, "audio_files_opened": len(opened),
                         "audio_bytes_opened": audio_read, "files_hashed": hashed[-1][0],
                         "bytes_hashed": hashed[-1][1], "rchar_all_files": rchar})
            print(f"cached run {run + 1}: {t_warm:.3f} s ({cpu:.3f} s of CPU); {warm.report.n_cached} from the cache, "
                  f"{warm.report.n_computed} computed; audio files opened {len(opened)} ({audio_read} bytes); "
                  f"files hashed {hashed[-1][0]} ({hashed[-1][1]} bytes); all bytes read by the process "
                  f"{rchar / 1e6:.1f} MB (cache entries and index)", flush=True)
    result = {"files": len(paths), "audio_bytes": audio_bytes, "kind": args.kind, "cold_s": round(t_cold, 2),
              "cached_runs": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cached", help="a second cached extraction reads no audio")
    c.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "philharmonia"))
    c.add_argument("--limit", type=int, default=3000)
    c.add_argument("--kind", default="mfcc")
    c.add_argument("--workers", type=int, default=None)
    c.add_argument("--repeat", type=int, default=3)
    c.add_argument("--cache-dir", help="a cache folder to keep (default: a fresh temporary one, so the first run is cold)")
    c.add_argument("--json", metavar="FILE")
    c.set_defaults(run=cached)
    from scale_store import add_predict_parser, add_store_parsers  # noqa: PLC0415 - bench/ sibling module

    add_store_parsers(sub)
    add_predict_parser(sub)
    args = ap.parse_args()
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
