"""Teach, measured as issue 13 judges it.

    .venv/bin/python bench/teach.py [--new ocarina:79,kalimba:108] [--known flute:73,violin:40]
                                    [--takes 10] [--known-takes 5] [--real-files 200] [--keep-dir DIR]
    .venv/bin/python bench/teach.py --real-only BUNDLE [BUNDLE ...] [--real-files 60]

1. Renders (tinysoundfont, the first General MIDI SoundFont found) --takes takes of 3-5 s of each
   --new program (instruments the default model does not name) and --known-takes of each --known
   program, into class folders: what a musician would record in the Live panel.
2. Runs `instrument-studio teach` on them in a child process, with and without
   --keep-default-classes, and reports the child's CPU time (user + system, every thread) and wall time.
3. Renders NEW takes of every taught program at other pitches (keys a fourth up and down) and other velocities,
   and counts how many each personal model names right (whole-take answer, unknown rule applied).
4. With ../shared/data: the default classes on real recordings (real-unverified/: never trained on;
   and freesound/: the default model's own training material), first 10 s of each file, answered by
   the default model and by the --keep-default-classes model: accuracy of both and the difference.
Figures go to stdout; docs/teach.md quotes them. The machine is shared: CPU seconds are steadier
than wall seconds, but both rise under load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

SR = 22050
SCALE = (0, 2, 4, 7, 9, 12, 14, 16)


def programs(text: str) -> dict[str, int]:
    return {name: int(prog) for name, prog in (p.split(":") for p in text.split(",") if p)}


def render_takes(folder: Path, label: str, program: int, *, n: int, seed: int, offset: int = 0,
                 velocities=(64, 84, 100), seconds=(3.0, 5.0)) -> list[Path]:
    """n takes of 3-5 s: short phrases on a pentatonic scale from a tonic near 60 (+/- offset, alternately),
    one velocity per take."""
    import tinysoundfont

    from instrument_studio.core.audio.audiofile import save_wav
    from instrument_studio.core.datasets.starter import render_notes
    from instrument_studio.core.recipe.render import find_soundfonts

    font = find_soundfonts()[0]
    synth = tinysoundfont.Synth(samplerate=SR, gain=-3.0)
    sfid = synth.sfload(str(font.path))
    synth.program_select(0, sfid, 0, program)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        length = float(rng.uniform(*seconds))
        tonic = 60 + offset * (1 if i % 2 else -1) + int(rng.integers(-3, 4))
        vel = int(velocities[i % len(velocities)])
        beat = 60.0 / float(rng.uniform(80, 150))
        t, notes = 0.0, []
        while t < length - 0.6:
            dur = beat * float(rng.choice([0.5, 1.0, 1.0, 2.0]))
            notes.append((tonic + int(rng.choice(SCALE)), t, dur * 0.9, int(np.clip(vel + rng.integers(-8, 9), 20, 127))))
            t += dur
        y = render_notes(synth, notes, length, SR)
        path = folder / label / f"{label}-{seed}-{i:02d}.wav"
        save_wav(path, y, SR)
        out.append(path)
    return out


def run_teach(dataset: Path, out: Path, *, keep: bool) -> dict:
    cmd = [sys.executable, "-m", "instrument_studio", "teach", str(dataset), "--out", str(out), "--json"]
    if keep:
        cmd.append("--keep-default-classes")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"teach failed: {proc.stderr.strip()}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    info["process_wall_s"] = wall
    return info


def accuracy(predictor, files: list[tuple[Path, str]], *, seconds: float | None = None,
             answers: list | None = None) -> tuple[float, dict]:
    """Share named right, and (right, files) per class; each answer appended to `answers` if given."""
    from instrument_studio.core.audio.audiofile import load

    right, per = 0, {}
    for path, label in files:
        y, sr = load(path, sr=predictor.sr)
        if seconds:
            y = y[:int(seconds * sr)]
        answer = predictor.predict(y, sr).label
        if answers is not None:
            answers.append(answer)
        ok = answer == label
        right += ok
        r, n = per.get(label, (0, 0))
        per[label] = (r + ok, n + 1)
    return right / max(1, len(files)), per


def spread(items: list, n: int) -> list:
    """n of the items, evenly spaced from the first to the last (every class of a sorted list)."""
    if len(items) <= n:
        return list(items)
    return [items[int(i)] for i in np.unique(np.linspace(0, len(items) - 1, n).round())]


def real_recordings(args, keep_preds) -> None:
    """Step 4: the default classes on real recordings, default model vs each kept-classes model
    (a list of (name, predictor))."""
    from instrument_studio.core.predict.inference import load_predictor
    from instrument_studio.core.recipe.default_model import label_of
    from instrument_studio.core.recipe.sources import shared_items, unverified_items

    if not (args.data / "real-unverified").is_dir():
        print(f"\n{args.data}/real-unverified not found: the kept default classes were not measured")
        return
    default = load_predictor(None)
    classes = set(default.labels) - {"unknown"}
    items = [i for i in unverified_items(args.data) if label_of(i.label) in classes]
    fs = [i for i in shared_items(args.data) if i.source == "freesound" and i.label in classes]
    for name, group in (("real-unverified (never trained on)", items),
                        ("freesound (the default model's training data)", fs)):
        # An even spread over the classes (the items are sorted by class).
        files = spread([(Path(i.path), label_of(i.label)) for i in group], args.real_files)
        ans_def = []
        a_def, per_def = accuracy(default, files, seconds=10.0, answers=ans_def)
        for model, keep_pred in keep_preds:
            ans_keep = []
            a_keep, per_keep = accuracy(keep_pred, files, seconds=10.0, answers=ans_keep)
            print(f"\n{name}, {len(files)} files (first 10 s): default model {a_def:.1%}, {model} with "
                  f"the default classes kept {a_keep:.1%} ({100 * (a_keep - a_def):+.1f} points)", flush=True)
            print("  per class (default -> kept): " + ", ".join(
                f"{c} {per_def[c][0]}/{n} -> {per_keep[c][0]}/{n}" for c, (_, n) in sorted(per_def.items())))
            # Which files changed answer, and to what: the taught class that took a default one.
            for (path, label), a, b in zip(files, ans_def, ans_keep, strict=True):
                if a != b:
                    print(f"  {label}: {a} -> {b}  ({path.name})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", default="ocarina:79,kalimba:108")
    ap.add_argument("--known", default="flute:73,violin:40")
    ap.add_argument("--takes", type=int, default=10)
    ap.add_argument("--known-takes", type=int, default=5)
    ap.add_argument("--take-seconds", default="3,5", help="shortest,longest take (default %(default)s)")
    ap.add_argument("--modes", default="drop,keep", help="teach without and/or with --keep-default-classes")
    ap.add_argument("--test-takes", type=int, default=10, help="new renders per taught program")
    ap.add_argument("--real-files", type=int, default=200, help="real recordings for the kept classes (0: skip)")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--keep-dir", type=Path, help="render and teach here (kept) instead of a temporary folder")
    ap.add_argument("--real-only", type=Path, metavar="BUNDLE", nargs="+",
                    help="only step 4, with these --keep-default-classes bundles (e.g. KEEP_DIR/model-keep)")
    args = ap.parse_args(argv)

    from instrument_studio.core.learn.bundle import load_bundle
    from instrument_studio.core.predict.inference import Predictor

    if args.real_only:
        real_recordings(args, [(str(b), Predictor(load_bundle(b))) for b in args.real_only])
        return 0
    root = args.keep_dir or Path(tempfile.mkdtemp(prefix="bench-teach-"))
    dataset, tests = root / "takes", root / "new-renders"
    new, known = programs(args.new), programs(args.known)
    for k, (label, prog) in enumerate({**new, **known}.items()):
        render_takes(dataset, label, prog, n=args.takes if label in new else args.known_takes, seed=100 + k,
                     seconds=tuple(float(v) for v in args.take_seconds.split(",")))
        # Other pitches (keys a fourth up and down) and other velocities than the takes.
        render_takes(tests, label, prog, n=args.test_takes, seed=900 + k, offset=5,
                     velocities=(40, 118))
    print(f"rendered into {root}: {', '.join(f'{c} {len(list((dataset / c).iterdir()))}' for c in {**new, **known})}"
          " takes; new renders at other pitches/velocities for testing")
    test_files = [(p, p.parent.name) for c in {**new, **known} for p in sorted((tests / c).iterdir())]

    results = {}
    for name in args.modes.split(","):
        keep = name == "keep"
        info = run_teach(dataset, root / f"model-{name}", keep=keep)
        pred = Predictor(load_bundle(root / f"model-{name}"))
        acc, per = accuracy(pred, test_files)
        results[name] = (info, pred)
        print(f"\n--keep-default-classes {'on' if keep else 'off'}: {len(info['labels'])} answers")
        print(f"  teach: {info['process_cpu_s']:.1f} s CPU (user+system, child process), {info['process_wall_s']:.1f} s "
              f"wall; inside teach(): {info['cpu_seconds']:.1f} s CPU; {info['takes']} takes, {info['windows']} windows")
        print(f"  leave-one-take-out accuracy {info['loto_accuracy']:.1%} (taught classes only: "
              f"{info['loto_restricted']:.1%}); unknown threshold {info['unknown_threshold']:.2f}")
        if info.get("anchor_claims"):
            print("  held-out anchors of the default classes won by a new class: "
                  + ", ".join(f"{c} {v:.1%}" for c, v in info["anchor_claims"].items()))
        print(f"  new renders (other pitches and velocities): {acc:.1%} of {len(test_files)}  "
              + ", ".join(f"{c} {r}/{n}" for c, (r, n) in per.items()))

    if args.real_files and "keep" in results:
        real_recordings(args, [("the personal model", results["keep"][1])])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
