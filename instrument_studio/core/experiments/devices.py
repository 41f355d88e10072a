"""Sweeps across devices: one training per GPU at a time, in parallel, each with its own energy.

The design (docs/scale.md, "Sweeps across devices"):
  - A Device is a slot that runs one training at a time: a local GPU (its index), or a Dask worker
    that advertises a GPU resource (`dask worker ... --resources "GPU=1"`).
  - Runs wait in one queue; a free device takes the next one (slow runs do not hold up the rest,
    as a fixed round-robin split would).
  - A local GPU run is a child process started with CUDA_VISIBLE_DEVICES=<index>: TensorFlow picks
    its devices once per process, so one process cannot train on GPU 0 and then on GPU 1 in
    parallel threads. The parent measures that GPU alone (NvmlMeter(device_indices=[index])) around
    the run, so energies never mix.
  - A Dask run is submitted with resources={"GPU": 1}; the worker measures its own GPU and sends
    the reading back with the history.

run_on_devices() below is that scheduler, with the runner and the meters injected: tests drive it
with fake devices and fake trainers on the CPU (tests/core/test_device_sweep.py). The child-process
runner for real GPUs (`gpu_runner`) could not be tested here: this machine has no GPU, and one
GPU (the loaned test machine) cannot show two trainings at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Device:
    """One slot: `env` is what its runs' processes get (CUDA_VISIBLE_DEVICES), `meters` makes the
    energy meters of this device alone."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    meters: Callable[[], list] | None = None
    dask_resources: dict[str, float] | None = None


@dataclass
class DeviceRun:
    job: Any
    device: str
    result: Any = None
    error: BaseException | None = None
    readings: list = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def local_gpus() -> list[Device]:
    """One Device per NVIDIA GPU that NVML sees, each measured alone; [] without any."""
    from .energy import NvmlMeter, _load_nvml

    try:
        nvml = _load_nvml()
        nvml.nvmlInit()
        count = nvml.nvmlDeviceGetCount()
    except Exception:  # noqa: BLE001 - no driver, no library, no GPU: all mean "none"
        return []
    return [Device(name=f"GPU {i}", env={"CUDA_VISIBLE_DEVICES": str(i)},
                   meters=lambda i=i: [NvmlMeter(nvml=nvml, device_indices=[i])]) for i in range(count)]


def run_on_devices(jobs: Sequence[Any], devices: Sequence[Device], runner: Callable[[Any, Device], Any], *,
                   should_stop: Callable[[], bool] | None = None) -> Iterator[DeviceRun]:
    """runner(job, device) for every job, one at a time per device, all devices at once; DeviceRun
    per job as each finishes. Each run's readings are its own device's meters over its own run."""
    from .energy import EnergyMonitor

    if not devices:
        raise ValueError("no devices to run on")
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    done: queue.Queue = queue.Queue()
    stop = should_stop or (lambda: False)

    def slot(device: Device) -> None:
        while not stop():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            monitor = EnergyMonitor(device.meters() if device.meters else [])
            run = DeviceRun(job=job, device=device.name, started=time.perf_counter())
            monitor.start()
            try:
                run.result = runner(job, device)
            except BaseException as exc:  # noqa: BLE001 - reported with its run; the others go on
                run.error = exc
            run.readings = monitor.stop()
            run.finished = time.perf_counter()
            done.put(run)

    threads = [threading.Thread(target=slot, args=(d,), name=f"sweep-{d.name}", daemon=True) for d in devices]
    for t in threads:
        t.start()
    for _ in range(len(jobs)):
        while True:
            try:
                yield done.get(timeout=0.1)
                break
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and done.empty():
                    return   # stopped: the runs not started are dropped
    for t in threads:
        t.join()


def gpu_runner(script_args: Callable[[Any], list[str]], *, timeout: float | None = None):
    """A runner that trains `job` in a child process pinned to the device (its env), running
    `python -m instrument_studio <script_args(job)>` and returning the JSON it prints last."""
    import json
    import os
    import subprocess
    import sys

    def run(job: Any, device: Device) -> dict:
        cmd = [sys.executable, "-m", "instrument_studio", *script_args(job)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **device.env}, timeout=timeout)
        if out.returncode:
            raise RuntimeError(f"{device.name}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    return run
