"""Resident memory of the running process, for the benchmarks (imported as `_memory`: bench/ is on
sys.path when a benchmark runs as a script)."""

from __future__ import annotations

import resource
from pathlib import Path


def _status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Resident set size now, in MB (Linux /proc; elsewhere the peak so far, from getrusage)."""
    now = _status_mb("VmRSS")
    return peak_rss_mb() if now is None else now


def reset_peak() -> bool:
    """Start the peak over from the present resident size (Linux: /proc/self/clear_refs), so that a
    measurement's peak is its own, not the model's loading; False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The peak resident set size since the last reset_peak (or the process's start), in MB."""
    peak = _status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 if peak is None else peak
