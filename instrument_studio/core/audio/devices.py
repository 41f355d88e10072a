"""Audio devices through sounddevice/PortAudio, with every failure turned into a readable reason."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AudioDeviceError


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} ({self.hostapi})" if self.hostapi else self.name


def sounddevice():
    """Import sounddevice, or say why it cannot be used (PortAudio missing, usually)."""
    try:
        import sounddevice as sd
    except OSError as exc:  # "PortAudio library not found"
        raise AudioDeviceError(f"audio is unavailable: {exc}",
                               hint="install PortAudio (Debian: apt install libportaudio2)") from exc
    return sd


def _list(kind: str) -> list[DeviceInfo]:
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_in, default_out = sd.default.device
    except Exception as exc:  # PortAudio raises its own PortAudioError (and others) here
        raise AudioDeviceError(f"cannot list audio devices: {exc}") from exc
    default = default_in if kind == "input" else default_out
    out = []
    for i, d in enumerate(devices):
        channels = d["max_input_channels"] if kind == "input" else d["max_output_channels"]
        if channels <= 0:
            continue
        api = hostapis[d["hostapi"]]["name"] if 0 <= d["hostapi"] < len(hostapis) else ""
        out.append(DeviceInfo(index=i, name=d["name"], hostapi=api,
                              max_input_channels=d["max_input_channels"],
                              max_output_channels=d["max_output_channels"],
                              default_samplerate=float(d["default_samplerate"]),
                              is_default=(i == default)))
    return out


def output_devices() -> list[DeviceInfo]:
    return _list("output")


def input_devices() -> list[DeviceInfo]:
    return _list("input")


def find_device(name_or_index: str | int | None, kind: str) -> DeviceInfo:
    """The device named (exactly, or as a unique substring) or numbered; None: the default."""
    devices = _list(kind)
    if not devices:
        raise AudioDeviceError(f"no audio {kind} device found",
                               hint="connect one, or check that the sound server is running")
    if name_or_index is None or name_or_index == "":
        for d in devices:
            if d.is_default:
                return d
        return devices[0]
    if isinstance(name_or_index, int) or str(name_or_index).isdigit():
        for d in devices:
            if d.index == int(name_or_index):
                return d
        raise AudioDeviceError(f"no {kind} device number {name_or_index}")
    exact = [d for d in devices if d.name == name_or_index]
    if exact:
        return exact[0]
    part = [d for d in devices if str(name_or_index).lower() in d.name.lower()]
    if len(part) == 1:
        return part[0]
    names = ", ".join(d.name for d in devices)
    if not part:
        raise AudioDeviceError(f"no {kind} device called {name_or_index!r}", hint=f"available: {names}")
    raise AudioDeviceError(f"{name_or_index!r} matches several {kind} devices", hint=f"available: {names}")


def rescan() -> None:
    """Make PortAudio enumerate devices again. It does so only when initialised, so a device
    plugged in (or a sound server started) later appears only after this. Every stream must be
    closed first."""
    sd = sounddevice()
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:
        raise AudioDeviceError(f"cannot rescan audio devices: {exc}") from exc


def unavailable_reason(kind: str) -> str | None:
    """None if some `kind` ("input" or "output") device exists; otherwise why not, in words a
    panel can show or put in a tooltip."""
    try:
        find_device(None, kind)
    except AudioDeviceError as exc:
        return str(exc)
    return None
