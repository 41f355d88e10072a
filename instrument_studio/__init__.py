"""Instrument Studio: recognise which musical instrument is playing."""

__version__ = "0.1.0"
