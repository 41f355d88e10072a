"""Audio in and out: decode and resample files, devices, capture, playback, the ring buffer and the
waveform envelope. Imports nothing from the other rooms of core except the shared modules at its top."""
