"""docs/screenshots/multiworker-curves.png: loss curves of a one-worker and a two-worker
(loopback) MultiWorkerMirroredStrategy run, from the two `train --json` outputs.

    python docs/plot_multiworker.py ONE.json TWO.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(one: str, two: str) -> None:
    h1 = json.loads(Path(one).read_text().splitlines()[-1])["history"]
    h2 = json.loads(Path(two).read_text().splitlines()[-1])["history"]
    epochs = range(1, len(h1["loss"]) + 1)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    for key, colour in (("loss", "tab:blue"), ("val_loss", "tab:orange")):
        ax.plot(epochs, h1[key], color=colour, lw=4, alpha=0.35, label=f"{key}, 1 worker")
        ax.plot(epochs, h2[key], color=colour, lw=1.2, marker="o", ms=3, label=f"{key}, 2 workers (loopback)")
    diff = max(abs(a - b) for k in ("loss", "val_loss") for a, b in zip(h1[k], h2[k], strict=True))
    ax.set(xlabel="epoch", ylabel="loss", title=f"MultiWorkerMirroredStrategy, global batch 32: largest difference {diff:.1e}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(__file__).parent / "screenshots" / "multiworker-curves.png"
    fig.savefig(out)
    print(f"wrote {out}; largest difference {diff:.2e}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
