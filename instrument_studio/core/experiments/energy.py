"""Energy meters read over a training window: GPU energy through NVML, CPU package energy
through the Linux RAPL powercap counters.

A meter that cannot measure says so: its reading is None with the reason
("unavailable: no NVIDIA GPU / NVML library not found"), never zero or an estimate. The
course question is "how many joules did reaching 98 % cost", and a fabricated number there
would be worse than none.

GPU: where the driver supports it (Volta and newer), nvmlDeviceGetTotalEnergyConsumption is a
millijoule counter since driver load, so the window's energy is the difference of two reads.
Older GPUs only report instantaneous power (nvmlDeviceGetPowerUsage, milliwatts); those are
sampled in a background thread and integrated with the trapezoidal rule.

Which GPUs: only those the backend trains on. Keras trains on the first GPU CUDA lets the process
see; CUDA_VISIBLE_DEVICES lists them by index or UUID (prefix), and NVML by UUID, so the entries are
mapped through NVML's UUIDs (indices are CUDA's, which are NVML's PCI-bus order once
CUDA_DEVICE_ORDER=PCI_BUS_ID, set by core/learn/backend.py). GPUs that other jobs use are not summed.

CPU: /sys/class/powercap/intel-rapl:N/energy_uj (AMD Zen exposes the same interface) is a
microjoule counter that wraps at max_energy_range_uj; it is polled in the same thread so at
most one wrap happens between two reads, and each wrap is added back.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GPU = "gpu"
CPU = "cpu"
RAPL_ROOT = Path("/sys/class/powercap")


@dataclass(frozen=True)
class EnergyReading:
    """Energy of one kind (GPU or CPU package) over a window; joules None when unmeasurable."""

    kind: str
    joules: float | None
    source: str          # what measured it, or "unavailable: <reason>"
    seconds: float = 0.0
    per_device: tuple[tuple[str, float], ...] = ()   # (device label, joules) for each GPU measured

    @property
    def available(self) -> bool:
        return self.joules is not None


class Meter:
    """One energy source. `available` and `reason` are settled by the constructor."""

    kind = ""
    available = False
    reason = ""
    label = ""

    def start(self) -> None: ...

    def poll(self) -> None:
        """Called periodically from the sampling thread."""

    def stop(self) -> float: ...

    def unavailable(self) -> EnergyReading:
        return EnergyReading(self.kind, None, f"unavailable: {self.reason}")


def _load_nvml() -> Any:
    """The pynvml module from nvidia-ml-py, or an ImportError naming the package."""
    import pynvml  # noqa: PLC0415  (nvidia-ml-py; pure Python, loads libnvidia-ml only on nvmlInit)

    return pynvml


class _Invisible(Exception):
    """No GPU is visible to CUDA (or the visible one cannot be matched to NVML)."""


def _uuid(nvml: Any, handle: Any) -> str:
    uuid = nvml.nvmlDeviceGetUUID(handle)
    return uuid.decode() if isinstance(uuid, bytes) else str(uuid)


def cuda_visible_to_nvml(nvml: Any, visible: str | None, count: int) -> list[int]:
    """NVML indices of the GPUs CUDA shows the process, in CUDA's order, from CUDA_VISIBLE_DEVICES
    (None: unset, every GPU). CUDA's rules: entries are indices or (prefixes of) UUIDs; the list
    stops at the first entry that names no GPU; "" or "-1" hides every GPU."""
    if visible is None:
        return list(range(count))
    out: list[int] = []
    uuids: list[str] | None = None
    for entry in (e.strip() for e in visible.split(",")):
        if entry.isdigit():
            index = int(entry)
            if index >= count:
                break
        elif entry.upper().startswith("GPU-"):
            if uuids is None:
                uuids = [_uuid(nvml, nvml.nvmlDeviceGetHandleByIndex(i)) for i in range(count)]
            matches = [i for i, u in enumerate(uuids) if u.lower().startswith(entry.lower())]
            if len(matches) != 1:
                break
            index = matches[0]
        elif entry.upper().startswith("MIG-"):
            raise _Invisible(f"training on a MIG instance ({entry}): NVML measures only whole GPUs")
        else:
            break
        if index in out:
            break
        out.append(index)
    return out


class NvmlMeter(Meter):
    """GPU energy of the NVIDIA GPUs the backend trains on (summed, and per GPU), via NVML.

    `nvml` is the pynvml module (injectable so tests can run without a GPU). `device_indices` (NVML
    indices) picks the devices outright; otherwise `used` are the CUDA ordinals trained on (Keras:
    the first visible GPU) mapped through `visible` (default: the CUDA_VISIBLE_DEVICES of this process).
    """

    kind = GPU

    def __init__(self, *, nvml: Any = None, device_indices: Sequence[int] | None = None,
                 visible: str | None = "env", used: Sequence[int] = (0,)):
        self._visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible == "env" else visible
        self._used = tuple(used)
        self.per_device: tuple[tuple[str, float], ...] = ()
        self._labels: list[str] = []
        self._nvml = nvml
        self._handles: list[Any] = []
        self._counter: list[bool] = []      # per device: total-energy counter supported
        self._start_mj: list[float] = []
        self._power_t: float | None = None
        self._power_last: list[float] = []
        self._power_j: list[float] = []
        self._lock = threading.Lock()
        self._open(device_indices)

    def _open(self, device_indices: Sequence[int] | None) -> None:
        if self._nvml is None:
            try:
                self._nvml = _load_nvml()
            except ImportError:
                self.reason = "NVML Python binding missing (pip install nvidia-ml-py)"
                return
        nvml = self._nvml
        try:
            nvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
            self.reason = f"no NVIDIA GPU / NVML not usable ({exc})"
            return
        try:
            count = nvml.nvmlDeviceGetCount()
            if count == 0:
                self.reason = "no NVIDIA GPU found by NVML"
                return
            if device_indices is not None:
                indices = [i for i in device_indices if i < count]
            else:
                visible = cuda_visible_to_nvml(nvml, self._visible, count)
                indices = [visible[u] for u in self._used if u < len(visible)]
            if not indices:
                self.reason = (f"no GPU visible to this process (CUDA_VISIBLE_DEVICES={self._visible!r})"
                               if self._visible is not None else "no NVIDIA GPU found by NVML")
                return
            names = []
            for i in indices:
                handle = nvml.nvmlDeviceGetHandleByIndex(i)
                self._handles.append(handle)
                self._counter.append(self._supports_counter(handle))
                name = nvml.nvmlDeviceGetName(handle)
                names.append(name.decode() if isinstance(name, bytes) else str(name))
                try:
                    self._labels.append(f"GPU {i}: {names[-1]} ({_uuid(nvml, handle)})")
                except Exception:  # an old binding or driver without UUIDs: the index and name still say which
                    self._labels.append(f"GPU {i}: {names[-1]}")
        except _Invisible as exc:
            self._handles.clear()
            self.reason = str(exc)
            return
        except Exception as exc:
            self._handles.clear()
            self.reason = f"NVML could not list the GPUs ({exc})"
            return
        how = ("total-energy counter" if all(self._counter) else
               "power sampling" if not any(self._counter) else "energy counter + power sampling")
        self.available = True
        self.label = f"GPU (NVML {how}: {', '.join(names)})"

    def _supports_counter(self, handle: Any) -> bool:
        try:
            self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            return True
        except Exception:  # NVMLError_NotSupported on pre-Volta GPUs
            return False

    def start(self) -> None:
        nvml = self._nvml
        now = time.perf_counter()
        with self._lock:
            self._start_mj = [float(nvml.nvmlDeviceGetTotalEnergyConsumption(h)) if c else 0.0
                              for h, c in zip(self._handles, self._counter, strict=False)]
            self._power_t = now
            self._power_last = [self._power_w(h) if not c else 0.0 for h, c in zip(self._handles, self._counter, strict=False)]
            self._power_j = [0.0] * len(self._handles)

    def _power_w(self, handle: Any) -> float:
        return float(self._nvml.nvmlDeviceGetPowerUsage(handle)) / 1000.0

    def poll(self) -> None:
        if not self.available or self._power_t is None or all(self._counter):
            return
        now = time.perf_counter()
        with self._lock:
            dt = now - self._power_t
            for i, (h, c) in enumerate(zip(self._handles, self._counter, strict=False)):
                if c:
                    continue
                p = self._power_w(h)
                self._power_j[i] += 0.5 * (p + self._power_last[i]) * dt
                self._power_last[i] = p
            self._power_t = now

    def stop(self) -> float:
        self.poll()
        nvml = self._nvml
        joules = []
        with self._lock:
            for i, (h, c) in enumerate(zip(self._handles, self._counter, strict=False)):
                if c:
                    joules.append((float(nvml.nvmlDeviceGetTotalEnergyConsumption(h)) - self._start_mj[i]) / 1000.0)
                else:
                    joules.append(self._power_j[i])
            self._power_t = None
        self.per_device = tuple(zip(self._labels, joules, strict=False))
        return sum(joules)


@dataclass
class _RaplDomain:
    path: Path
    name: str
    max_range_uj: int
    last_uj: int = 0
    total_uj: int = 0


class RaplMeter(Meter):
    """CPU package energy summed over the RAPL package domains (intel-rapl:N, not their
    core/uncore/dram sub-domains, which the package already contains)."""

    kind = CPU

    def __init__(self, *, root: str | Path = RAPL_ROOT):
        self._domains: list[_RaplDomain] = []
        self._lock = threading.Lock()
        root = Path(root)
        if not root.is_dir():
            self.reason = f"no RAPL energy counters ({root} absent)"
            return
        zones = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        if not zones:
            self.reason = f"no RAPL package domains under {root}"
            return
        problems = []
        for zone in zones:
            try:
                now = int((zone / "energy_uj").read_text().strip())
                max_range = int((zone / "max_energy_range_uj").read_text().strip())
                name = (zone / "name").read_text().strip() if (zone / "name").exists() else zone.name
            except (OSError, ValueError) as exc:
                # Since Linux 5.10 energy_uj is root-only (CVE-2020-8694).
                problems.append(f"{zone / 'energy_uj'}: {getattr(exc, 'strerror', None) or exc}")
                continue
            self._domains.append(_RaplDomain(zone, name, max_range, now))
        if not self._domains:
            self.reason = "RAPL counters not readable (" + "; ".join(problems) + ")"
            return
        self.available = True
        self.label = "CPU package (RAPL: " + ", ".join(d.name for d in self._domains) + ")"

    @staticmethod
    def _read(domain: _RaplDomain) -> int:
        return int((domain.path / "energy_uj").read_text().strip())

    def start(self) -> None:
        with self._lock:
            for d in self._domains:
                d.last_uj = self._read(d)
                d.total_uj = 0

    def poll(self) -> None:
        with self._lock:
            for d in self._domains:
                now = self._read(d)
                delta = now - d.last_uj
                if delta < 0:  # the counter wrapped at max_energy_range_uj
                    delta += d.max_range_uj + 1
                d.total_uj += delta
                d.last_uj = now

    def stop(self) -> float:
        self.poll()
        return sum(d.total_uj for d in self._domains) / 1e6


def default_meters() -> list[Meter]:
    """One GPU meter (NVML) and one CPU meter (RAPL); either may be unavailable."""
    return [NvmlMeter(), RaplMeter()]


# A read can fail for a moment (a counter file caught mid-update, a busy driver): a poll that fails
# is skipped, and a window is given up only after this many failed polls in a row.
MAX_POLL_FAILURES = 5
STOP_TRIES = 3


class EnergyMonitor:
    """Measures every meter over a window: start() ... stop() -> one EnergyReading per kind.

    A thread polls the meters every `interval_s` (power integration, RAPL wrap-around); the
    monitor may be started and stopped many times (one window per training run). One failed read
    does not void a window: a failed poll is skipped (the next one covers its interval) and the
    final read at stop is tried again; only reads that keep failing make the reading unavailable.
    """

    def __init__(self, meters: Sequence[Meter] | None = None, *, interval_s: float = 0.1,
                 clock: Callable[[], float] = time.perf_counter):
        self.meters = list(default_meters() if meters is None else meters)
        self.interval_s = interval_s
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._t0 = 0.0
        self._failed: dict[int, str] = {}
        self._misses: dict[int, int] = {}

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("energy monitor already running")
        self._failed.clear()
        self._misses.clear()
        for i, m in enumerate(self.meters):
            if m.available:
                try:
                    m.start()
                except Exception as exc:
                    self._failed[i] = f"reading failed at start ({exc})"
        self._t0 = self._clock()
        if any(m.available for m in self.meters):
            self._halt.clear()
            self._thread = threading.Thread(target=self._run, name="energy-monitor", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._halt.wait(self.interval_s):
            for i, m in enumerate(self.meters):
                if m.available and i not in self._failed:
                    try:
                        m.poll()
                        self._misses[i] = 0
                    except Exception as exc:
                        self._misses[i] = self._misses.get(i, 0) + 1
                        if self._misses[i] >= MAX_POLL_FAILURES:
                            self._failed[i] = f"reading failed {MAX_POLL_FAILURES} times in a row ({exc})"

    def _final_read(self, i: int, meter: Meter) -> float | None:
        for attempt in range(STOP_TRIES):
            try:
                return meter.stop()
            except Exception as exc:
                self._failed[i] = f"reading failed at stop ({exc})"
                if attempt + 1 < STOP_TRIES:
                    time.sleep(0.01)
        return None

    def stop(self) -> list[EnergyReading]:
        seconds = self._clock() - self._t0
        if self._thread is not None:
            self._halt.set()
            self._thread.join()
            self._thread = None
        readings = []
        for i, m in enumerate(self.meters):
            if not m.available:
                readings.append(m.unavailable())
                continue
            joules = None if i in self._failed else self._final_read(i, m)
            if joules is None:
                readings.append(EnergyReading(m.kind, None, f"unavailable: {m.label}: {self._failed[i]}"))
            else:
                readings.append(EnergyReading(m.kind, joules, m.label, seconds,
                                              tuple(getattr(m, "per_device", ()) or ())))
        return readings


def reading_of(readings: Sequence[EnergyReading], kind: str) -> EnergyReading:
    for r in readings:
        if r.kind == kind:
            return r
    return EnergyReading(kind, None, f"unavailable: no {kind.upper()} meter")
