"""Live input: the pipeline from a microphone or playback to a scrolling spectrogram, its sources,
and recorded takes."""
