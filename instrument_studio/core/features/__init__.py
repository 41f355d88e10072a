"""Features: the log-mel spectrogram (display and models), clip features (THE one code path from audio
to model input), feature sets, and extraction over a dataset with its per-file cache."""
