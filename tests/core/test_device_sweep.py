"""Sweeps across devices, scheduled on fake devices (no GPU needed): one run at a time per device,
all devices at once, every run exactly once, and each run's energy from its own device only."""

from __future__ import annotations

import threading
import time

import pytest

from instrument_studio.core.experiments.devices import Device, run_on_devices
from instrument_studio.core.experiments.energy import GPU, Meter


class FakeGpuMeter(Meter):
    """A GPU drawing `watts` only while its own device is busy (the busy flag of that device)."""

    kind, available = GPU, True

    def __init__(self, name: str, watts: float, busy: dict):
        self.label, self.watts, self.busy = f"fake {name}", watts, busy
        self.name = name

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def stop(self) -> float:
        return self.watts * (time.perf_counter() - self.t0)


def test_runs_spread_over_devices_in_parallel_each_with_its_own_energy():
    busy: dict[str, int] = {"GPU 0": 0, "GPU 1": 0}
    watts = {"GPU 0": 100.0, "GPU 1": 300.0}
    lock = threading.Lock()
    devices = [Device(name=n, env={"CUDA_VISIBLE_DEVICES": n[-1]},
                      meters=lambda n=n: [FakeGpuMeter(n, watts[n], busy)]) for n in busy]
    overlaps = []

    def runner(job, device):
        with lock:
            busy[device.name] += 1
            assert busy[device.name] == 1, "two runs at once on one device"
            overlaps.append(sum(busy.values()))
        time.sleep(0.05 + 0.05 * (job % 3))   # uneven runs: the queue keeps both devices busy
        with lock:
            busy[device.name] -= 1
        return {"job": job, "env": dict(device.env)}

    runs = list(run_on_devices(list(range(8)), devices, runner))
    assert sorted(r.job for r in runs) == list(range(8))
    assert {r.device for r in runs} == {"GPU 0", "GPU 1"}
    assert max(overlaps) == 2                                   # both devices trained at the same time
    for r in runs:
        assert r.error is None and r.result["env"]["CUDA_VISIBLE_DEVICES"] == r.device[-1]
        (reading,) = r.readings
        assert reading.source == f"fake {r.device}"             # its own device's meter, no other
        assert reading.joules == pytest.approx(watts[r.device] * (r.finished - r.started), rel=0.3)
    # runs in parallel: the whole sweep takes about half the sum of the runs
    total = sum(r.finished - r.started for r in runs)
    span = max(r.finished for r in runs) - min(r.started for r in runs)
    assert span < 0.8 * total


def test_a_failing_run_is_reported_and_the_others_go_on():
    def runner(job, device):
        if job == 1:
            raise RuntimeError("out of memory")
        return job

    runs = list(run_on_devices([0, 1, 2], [Device("GPU 0"), Device("GPU 1")], runner))
    assert sorted(r.job for r in runs) == [0, 1, 2]
    assert [str(r.error) for r in runs if r.error] == ["out of memory"]


def test_a_stop_drops_the_runs_not_started():
    started = []

    def runner(job, device):
        started.append(job)
        time.sleep(0.05)
        return job

    runs = list(run_on_devices(list(range(20)), [Device("GPU 0")], runner, should_stop=lambda: len(started) >= 2))
    assert 2 <= len(runs) < 20
