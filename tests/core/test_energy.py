"""Energy meters: fake NVML and RAPL sources, wrap-around, and 'unavailable' (never 0) without a GPU."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from instrument_studio.core.experiments.energy import (
    CPU,
    GPU,
    EnergyMonitor,
    NvmlMeter,
    RaplMeter,
    reading_of,
)


class NVMLError(Exception):
    pass


class FakeNvml:
    """Stands in for the pynvml module: one GPU whose counter/power the test drives."""

    def __init__(self, *, counter: bool = True, power_w: float = 200.0, init_error: Exception | None = None):
        self.counter = counter
        self.energy_mj = 1_000_000.0
        self.power_w = power_w
        self.init_error = init_error

    def nvmlInit(self):
        if self.init_error:
            raise self.init_error

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, i):
        return ("gpu", i)

    def nvmlDeviceGetName(self, handle):
        return b"Fake H100"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.counter:
            raise NVMLError("Not Supported")
        return self.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle):
        return self.power_w * 1000.0


def test_nvml_counter_difference_is_the_window_energy():
    nvml = FakeNvml(counter=True)
    meter = NvmlMeter(nvml=nvml)
    assert meter.available and "total-energy counter" in meter.label and "Fake H100" in meter.label
    meter.start()
    nvml.energy_mj += 12_345.0     # 12.345 J spent in the window
    assert meter.stop() == pytest.approx(12.345)


def test_nvml_power_sampling_integrates_watts_over_time():
    nvml = FakeNvml(counter=False, power_w=100.0)
    monitor = EnergyMonitor([NvmlMeter(nvml=nvml)], interval_s=0.01)
    monitor.start()
    time.sleep(0.3)
    gpu = reading_of(monitor.stop(), GPU)
    assert gpu.available and "power sampling" in gpu.source
    # 100 W for ~0.3 s (the monitor's own window) ~ 30 J
    assert gpu.joules == pytest.approx(100.0 * gpu.seconds, rel=0.1)
    assert 25.0 < gpu.joules < 60.0


def test_nvml_missing_library_is_unavailable_with_the_reason_not_zero():
    meter = NvmlMeter(nvml=FakeNvml(init_error=NVMLError("NVML Shared Library Not Found")))
    assert not meter.available
    monitor = EnergyMonitor([meter])
    monitor.start()
    gpu = reading_of(monitor.stop(), GPU)
    assert gpu.joules is None
    assert gpu.source.startswith("unavailable:") and "NVML Shared Library Not Found" in gpu.source


def _rapl_zone(root: Path, name: str, energy: int, max_range: int, label: str = "package-0") -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "energy_uj").write_text(f"{energy}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_range}\n")
    (zone / "name").write_text(label + "\n")
    return zone


def test_rapl_sums_packages_and_ignores_subdomains(tmp_path):
    p0 = _rapl_zone(tmp_path, "intel-rapl:0", 1_000_000, 10**9)
    p1 = _rapl_zone(tmp_path, "intel-rapl:1", 5_000_000, 10**9, "package-1")
    sub = _rapl_zone(tmp_path, "intel-rapl:0:0", 0, 10**9, "core")
    meter = RaplMeter(root=tmp_path)
    assert meter.available and meter.label.startswith("CPU package")
    meter.start()
    (p0 / "energy_uj").write_text("3000000")     # +2 J
    (p1 / "energy_uj").write_text("5500000")     # +0.5 J
    (sub / "energy_uj").write_text("900000000")  # contained in the package: not counted again
    assert meter.stop() == pytest.approx(2.5)


def test_rapl_wrap_around_adds_the_range_back(tmp_path):
    max_range = 262_143_328_850
    zone = _rapl_zone(tmp_path, "intel-rapl:0", max_range - 1_000_000, max_range)
    meter = RaplMeter(root=tmp_path)
    meter.start()
    (zone / "energy_uj").write_text(str(max_range - 10))   # +0.99999 J
    meter.poll()
    (zone / "energy_uj").write_text("2000000")            # wrapped: +10 uJ + 1 + 2 J
    meter.poll()
    (zone / "energy_uj").write_text("4000000")            # +2 J
    assert meter.stop() == pytest.approx((1_000_000 - 10 + 10 + 1 + 2_000_000 + 2_000_000) / 1e6)


def test_rapl_unreadable_or_absent_says_why(tmp_path):
    assert "absent" in RaplMeter(root=tmp_path / "nope").reason
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "max_energy_range_uj").write_text("100")   # energy_uj missing, as if unreadable
    meter = RaplMeter(root=tmp_path)
    assert not meter.available and "not readable" in meter.reason


def _set_energy(zone: Path, uj: int) -> None:
    """As the kernel updates a counter: the poller never sees half a write (temporary + rename)."""
    tmp = zone / ".energy_uj.tmp"
    tmp.write_text(f"{uj}\n")
    os.replace(tmp, zone / "energy_uj")


def test_monitor_reports_both_kinds_separately(tmp_path):
    zone = _rapl_zone(tmp_path, "intel-rapl:0", 0, 10**12)
    nvml = FakeNvml(counter=True)
    monitor = EnergyMonitor([NvmlMeter(nvml=nvml), RaplMeter(root=tmp_path)], interval_s=0.01)
    for spent in (1.0, 3.0):  # a monitor serves one window per run
        monitor.start()
        nvml.energy_mj += spent * 1000
        _set_energy(zone, int(int((zone / "energy_uj").read_text()) + spent * 2e6))
        readings = monitor.stop()
        assert reading_of(readings, GPU).joules == pytest.approx(spent)
        assert reading_of(readings, CPU).joules == pytest.approx(2 * spent)
        assert reading_of(readings, CPU).source.startswith("CPU package")


class FlakyMeter:
    """A meter whose reads fail at chosen polls (a counter caught mid-update)."""

    kind, label, available, reason = CPU, "flaky", True, ""

    def __init__(self, fail_polls=(), fail_stops=0):
        self.fail_polls, self.fail_stops, self.polls, self.total = set(fail_polls), fail_stops, 0, 0.0

    def start(self):
        self.total = 0.0

    def poll(self):
        self.polls += 1
        if self.polls in self.fail_polls:
            raise ValueError("invalid literal for int() with base 10: ''")
        self.total += 1.0

    def stop(self):
        if self.fail_stops:
            self.fail_stops -= 1
            raise ValueError("invalid literal for int() with base 10: ''")
        return self.total


def _window_of(meter: FlakyMeter, *, polls: int, interval_s: float):
    """Run an EnergyMonitor over `meter` until it has been polled `polls` times (5 s at most):
    the CPU reading of that window."""
    monitor = EnergyMonitor([meter], interval_s=interval_s)
    monitor.start()
    deadline = time.monotonic() + 5
    while meter.polls < polls and time.monotonic() < deadline:
        time.sleep(0.005)
    return reading_of(monitor.stop(), CPU)


def test_one_failed_read_does_not_void_the_window():
    reading = _window_of(FlakyMeter(fail_polls={2}, fail_stops=1), polls=6, interval_s=0.005)
    assert reading.available and reading.joules >= 5


def test_reads_that_keep_failing_make_the_reading_unavailable_with_the_reason():
    reading = _window_of(FlakyMeter(fail_polls=set(range(1, 1000))), polls=8, interval_s=0.002)
    assert reading.joules is None and "5 times in a row" in reading.source


def test_a_torn_counter_file_during_the_window_is_skipped(tmp_path):
    """The old flake: write_text truncates, then writes; a poll in between read ''."""
    zone = _rapl_zone(tmp_path, "intel-rapl:0", 0, 10**12)
    monitor = EnergyMonitor([RaplMeter(root=tmp_path)], interval_s=0.002)
    monitor.start()
    (zone / "energy_uj").write_text("")          # caught mid-update by several polls
    time.sleep(0.006)
    _set_energy(zone, 3_000_000)
    reading = reading_of(monitor.stop(), CPU)
    assert reading.joules == pytest.approx(3.0)


def test_this_machine_without_gpu_reports_none_not_zero():
    """On the development machine there is no NVIDIA GPU: the default GPU meter must say so."""
    meter = NvmlMeter()
    if meter.available:
        pytest.skip(f"this machine has an NVIDIA GPU ({meter.label})")
    monitor = EnergyMonitor()
    monitor.start()
    gpu = reading_of(monitor.stop(), GPU)
    assert gpu.joules is None
    assert gpu.joules != 0
    assert gpu.source.startswith("unavailable:")


def test_missing_binding_says_which_package(monkeypatch):
    import instrument_studio.core.experiments.energy as energy

    def no_pynvml():
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(energy, "_load_nvml", no_pynvml)
    meter = NvmlMeter()
    assert not meter.available and "nvidia-ml-py" in meter.reason


class FakeHost:
    """A fake NVML with four GPUs (NVML index = PCI order), each drawing its own power; the test
    checks that only the GPU the backend trains on is measured."""

    UUIDS = ["GPU-0aaa1111-0000", "GPU-1bbb2222-0000", "GPU-2ccc3333-0000", "GPU-3ddd4444-0000"]

    def __init__(self):
        self.energy_mj = [0.0, 0.0, 0.0, 0.0]

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return 4

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, handle):
        return "Fake H200"

    def nvmlDeviceGetUUID(self, handle):
        return self.UUIDS[handle].encode()

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        return self.energy_mj[handle]

    def run(self, joules_per_gpu):
        self.energy_mj = [e + 1000.0 * j for e, j in zip(self.energy_mj, joules_per_gpu, strict=True)]


@pytest.mark.parametrize("visible, expected", [
    (None, 0),                      # all visible: Keras trains on the first
    ("2", 2),                       # an index (CUDA_DEVICE_ORDER=PCI_BUS_ID: NVML's order)
    ("3,1", 3),                     # CUDA's order is the variable's order
    ("GPU-1bbb", 1),                # a UUID prefix, as CUDA accepts
    ("GPU-2ccc3333-0000,0", 2),
])
def test_nvml_measures_only_the_gpu_the_backend_trains_on(visible, expected):
    host = FakeHost()
    meter = NvmlMeter(nvml=host, visible=visible)
    assert meter.available, meter.reason
    meter.start()
    host.run([10.0, 20.0, 30.0, 40.0])
    assert meter.stop() == pytest.approx([10.0, 20.0, 30.0, 40.0][expected])
    (label, joules), = meter.per_device
    assert label.startswith(f"GPU {expected}: Fake H200 ({FakeHost.UUIDS[expected]})")
    assert joules == pytest.approx([10.0, 20.0, 30.0, 40.0][expected])


@pytest.mark.parametrize("visible", ["", "-1", "7", "GPU-ffff", "GPU-"])
def test_nvml_without_a_visible_gpu_is_unavailable_not_zero(visible):
    meter = NvmlMeter(nvml=FakeHost(), visible=visible)
    assert not meter.available and "visible" in meter.reason


def test_nvml_mig_instance_is_said_unmeasurable():
    meter = NvmlMeter(nvml=FakeHost(), visible="MIG-4f2a0000-1111")
    assert not meter.available and "MIG" in meter.reason


def test_nvml_several_gpus_used_reports_each(monkeypatch):
    host = FakeHost()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    meter = NvmlMeter(nvml=host, used=(0, 1))      # e.g. a distributed run on both visible GPUs
    monitor = EnergyMonitor([meter], interval_s=0.01)
    monitor.start()
    host.run([1.0, 2.0, 3.0, 4.0])
    reading = reading_of(monitor.stop(), GPU)
    assert reading.joules == pytest.approx(6.0)
    assert [j for _, j in reading.per_device] == pytest.approx([2.0, 4.0])
    assert [label.split(":")[0] for label, _ in reading.per_device] == ["GPU 1", "GPU 3"]
