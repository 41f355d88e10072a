"""Feature extraction throughput: seconds of audio processed per wall-clock second.

For each feature kind, on ../shared/data/philharmonia (or --data), three runs over the same files:
  baseline  a plain per-file librosa loop in one process (librosa.load + librosa.feature.*), as a lab
            script runs it (BLAS with its default threads), and the same loop with one BLAS thread
            (the fairer reference: part of the speed-up is only that setting),
  cold      core.features.extraction.extract into an empty cache (processes, hashing, cache writes),
  cached    the same call again (every file from the cache),
and the ratios cold/baseline and cached/baseline.

    python bench/features.py --limit 400 [--workers 2] [--kinds mfcc sequence mel-patches]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def baseline(paths: list[str], kind: str) -> int:
    """What a course-lab script does: load each file with librosa and compute the feature."""
    import librosa
    import numpy as np

    sr = 22050
    rows = 0
    for p in paths:
        y, _ = librosa.load(p, sr=sr)
        if kind == "mfcc":
            m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40, n_mels=128, fmax=8000)
            x = np.concatenate([m.mean(1), m.std(1), librosa.feature.delta(m, mode="nearest").mean(1)])[None]
        elif kind == "sequence":
            y = librosa.util.fix_length(y, size=3 * sr)
            m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_mels=128, fmax=8000)
            c = librosa.feature.spectral_centroid(y=y, sr=sr)
            k = librosa.feature.spectral_contrast(y=y, sr=sr)
            x = np.concatenate([m, c, k]).T[None]
        else:
            db = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=128, fmax=8000))
            if db.shape[1] < 43:
                db = np.pad(db, ((0, 0), (0, 43 - db.shape[1])))
            x = np.stack([db[:, s:s + 43] for s in range(0, db.shape[1] - 42, 22)])
        rows += len(x)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "philharmonia"))
    ap.add_argument("--limit", type=int, default=400, help="files, spread over the classes (default 400)")
    ap.add_argument("--workers", type=int, default=None, help="extraction processes (default: CPU cores)")
    ap.add_argument("--kinds", nargs="+", default=["mfcc", "sequence", "mel-patches"])
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()

    import numpy as np
    import soundfile as sf

    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.datasets import import_dataset
    from instrument_studio.core.features.extraction import extract

    data = Path(args.data)
    if not data.is_dir():
        print(f"no data at {data} (the development recordings live in ../shared/data)", file=sys.stderr)
        return 2
    ds = import_dataset(data)
    step = max(1, len(ds.clips) // args.limit)
    ds.clips = ds.clips[::step][: args.limit]
    paths = [c.path for c in ds.clips]
    audio_s = sum(sf.info(p).duration for p in paths)
    print(f"{len(paths)} files, {audio_s:.0f} s of audio, from {data}")

    # Warm librosa (numba compiles on first use) so no run pays for it.
    import librosa

    librosa.feature.spectral_contrast(y=np.random.default_rng(0).standard_normal(22050).astype(np.float32), sr=22050)
    from instrument_studio.core.features.workers import start_workers

    t = time.perf_counter()
    start_workers(args.workers)
    t_start = time.perf_counter() - t
    print(f"worker processes started in {t_start:.1f} s (once per session; not in the figures below)")
    results = []
    for kind in args.kinds:
        cfg = FeatureConfig(kind=kind)
        t = time.perf_counter()
        baseline(paths, kind)
        t_base = time.perf_counter() - t
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            t = time.perf_counter()
            baseline(paths, kind)
            t_base1 = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as cache:
            t = time.perf_counter()
            cold = extract(ds, cfg, workers=args.workers, cache_dir=cache)
            t_cold = time.perf_counter() - t
            t = time.perf_counter()
            warm = extract(ds, cfg, workers=args.workers, cache_dir=cache)
            t_warm = time.perf_counter() - t
        assert warm.report.n_cached == len(paths) - len(cold.report.failures)
        row = {"kind": kind, "files": len(paths), "audio_s": round(audio_s, 1),
               "baseline_s": round(t_base, 2), "baseline_1thread_s": round(t_base1, 2), "cold_s": round(t_cold, 2), "cached_s": round(t_warm, 3),
               "baseline_x": round(audio_s / t_base, 1), "baseline_1thread_x": round(audio_s / t_base1, 1),
               "cold_x": round(audio_s / t_cold, 1),
               "cached_x": round(audio_s / t_warm, 1),
               "cold_vs_baseline": round(t_base / t_cold, 2), "cached_vs_baseline": round(t_base / t_warm, 1),
               "cold_vs_baseline_1thread": round(t_base1 / t_cold, 2),
               "failures": len(cold.report.failures)}
        results.append(row)
        print(f"{kind:>12}: baseline {row['baseline_x']:>7.1f} s/s ({t_base:.1f} s; 1 BLAS thread "
              f"{row['baseline_1thread_x']:.1f} s/s) | "
              f"cold {row['cold_x']:>7.1f} s/s ({t_cold:.1f} s, x{row['cold_vs_baseline']} vs baseline, "
              f"x{row['cold_vs_baseline_1thread']} vs 1-thread) | "
              f"cached {row['cached_x']:>9.1f} s/s ({t_warm:.2f} s, x{row['cached_vs_baseline']} vs baseline)",
              flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
