"""Work spread over a Dask cluster (`--scheduler tcp://host:8786`), for the embarrassingly parallel
jobs: feature extraction and folder prediction. Without a scheduler the same jobs use local worker
processes (features/workers.py, predict/parallel.py); results are the same either way.

Why Dask and not a home-made protocol: it already does the scheduling, retries of lost workers,
data locality and the dashboard, and a lab's cluster may already run one (`dask scheduler` on one
machine, `dask worker tcp://...` on the others). Requirements on the workers: this package
installed (same version), and the audio files under the same paths (a shared or mirrored folder):
workers read files themselves rather than receive their bytes through the scheduler. Results come
back to the client, which alone writes the feature cache.

dask.distributed is an optional dependency (`pip install instrument-studio[dask]`): it is imported
only when a scheduler address is given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import ConfigError, StudioError

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def check_address(address: str) -> str:
    address = address.strip()
    if "://" not in address:
        address = f"tcp://{address}"
    scheme = address.split("://", 1)[0]
    if scheme not in ("tcp", "tls", "inproc", "ws", "wss", "ucx"):
        raise ConfigError(f"a Dask scheduler address looks like tcp://host:8786, got {address!r}")
    return address


def client(address: str):
    """A connected dask.distributed Client for `address` (reused by later calls)."""
    address = check_address(address)
    try:
        from distributed import Client
    except ImportError as exc:
        raise StudioError("running on a Dask cluster needs dask.distributed",
                          hint="install it with: pip install 'instrument-studio[dask]' "
                               "(or pip install 'dask[distributed]')") from exc
    with _lock:
        c = _clients.get(address)
        if c is not None and c.status == "running":
            return c
        try:
            c = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise StudioError(f"cannot reach the Dask scheduler at {address}: {exc}",
                              hint="is `dask scheduler` running there, and the port open?") from exc
        _clients[address] = c
        return c


def map_unordered(address: str, fn: Callable, batches: Iterable[tuple], *,
                  should_stop: Callable[[], bool] | None = None) -> Iterator[Any]:
    """fn(*batch) for every batch on the cluster; results as they complete. Cancels the rest when
    should_stop() turns true (checked every 0.1 s) or the consumer stops iterating."""
    import time

    from .errors import Cancelled

    c = client(address)
    futures = [c.submit(fn, *batch, pure=False) for batch in batches]
    pending = list(futures)
    try:
        while pending:
            if should_stop is not None and should_stop():
                raise Cancelled("cancelled: the cluster's remaining tasks were dropped")
            ready = [f.done() for f in pending]
            if not any(ready):
                time.sleep(0.05)   # poll, so a stop request is seen within a tenth of a second
                continue
            finished = [f for f, r in zip(pending, ready, strict=True) if r]
            pending = [f for f, r in zip(pending, ready, strict=True) if not r]
            for fut in finished:
                yield fut.result()
    finally:
        c.cancel([f for f in futures if not f.done()])
