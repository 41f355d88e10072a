"""Rebuild the default classes' anchors that Teach learns against (resources/teach_anchors.npz).

    python packaging/make_teach_anchors.py [--data ../shared/data] [--per-class 40]

Teach (core/personal/teach.py) trains a personal head on the default model's frozen embedding. So that
a taught class does not swallow the instruments the default model knows (and so that they can be
kept), it needs examples of those: a few real windows' embeddings per default class, drawn evenly
from every source of the default model's own training material. Run after make_default_model.py,
which caches every embedding this reads (so this takes seconds, not minutes). The file records the
SHA-256 of the default model it belongs to; Teach refuses anchors of another model.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--subsample", type=int, default=4, help="as make_default_model.py was run with")
    parser.add_argument("--phrases", type=int, default=None,
                        help="as make_default_model.py was run with (default: its default)")
    parser.add_argument("--noise", type=int, default=None,
                        help="as make_default_model.py was run with (default: its default)")
    parser.add_argument("--speech", type=int, default=None,
                        help="as make_default_model.py was run with (default: its default)")
    parser.add_argument("--render-notes", type=int, default=None,
                        help="as make_default_model.py was run with (default: its default)")
    parser.add_argument("--render-phrases", type=int, default=None,
                        help="as make_default_model.py was run with (default: its default)")
    parser.add_argument("--cached-only", action="store_true",
                        help="only the items whose embeddings make_default_model.py has cached (no TensorFlow)")
    args = parser.parse_args(argv)

    import numpy as np
    from make_default_model import (
        BACKGROUND_SOUNDS,
        PHRASES_PER_SOURCE,
        RENDER_NOTES,
        RENDER_PHRASES,
        SPEECH_CLIPS,
        gather,
    )

    from instrument_studio.core.fileio import atomic_path
    from instrument_studio.core.personal.head import ANCHORS_FILE, PARTS
    from instrument_studio.core.predict.inference import DEFAULT_MODEL
    from instrument_studio.core.recipe.default_model import label_of
    from instrument_studio.core.recipe.embed import cached_items, embed_items, part

    phrases = PHRASES_PER_SOURCE if args.phrases is None else args.phrases
    noise = BACKGROUND_SOUNDS if args.noise is None else args.noise
    items = gather(args.data, subsample=args.subsample, phrases_per_source=phrases, background_sounds=noise,
                   render_notes=RENDER_NOTES if args.render_notes is None else args.render_notes,
                   render_phrases=RENDER_PHRASES if args.render_phrases is None else args.render_phrases,
                   speech_clips=SPEECH_CLIPS if args.speech is None else args.speech, log=print)
    if args.cached_only:
        items = cached_items(items)
        print(f"{len(items)} items with cached embeddings")
    data = embed_items(items)
    by_class: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for e in data:
        by_class[label_of(e.item.label)][e.item.source].append(part(e.playing, PARTS))
    rng = np.random.default_rng(0)
    xs, ys, srcs = [], [], []
    for label in sorted(by_class):
        pools = {s: np.concatenate(v) for s, v in sorted(by_class[label].items())}
        for s in pools:
            pools[s] = pools[s][rng.permutation(len(pools[s]))]
        taken, i = 0, 0
        # Round robin over sources: no recording chain dominates a class's anchors.
        while taken < args.per_class and any(i < len(p) for p in pools.values()):
            for s, p in pools.items():
                if i < len(p) and taken < args.per_class:
                    xs.append(p[i])
                    ys.append(label)
                    srcs.append(s)
                    taken += 1
            i += 1
        print(f"{label}: {taken} anchors from {len(pools)} sources")
    meta = json.loads((DEFAULT_MODEL / "bundle.json").read_text("utf-8"))
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.asarray(xs, dtype=np.float16), labels=np.asarray(ys), sources=np.asarray(srcs),
                        parts=np.asarray(PARTS), model_sha256=np.asarray(meta["model_file"]["sha256"]))
    with atomic_path(ANCHORS_FILE, suffix=".npz.part") as tmp:
        Path(tmp).write_bytes(buf.getvalue())
    print(f"wrote {ANCHORS_FILE} ({ANCHORS_FILE.stat().st_size / 1e6:.2f} MB, {len(xs)} anchors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
