"""The Qt-free core: audio, features, datasets, models, training, evaluation, prediction.

Nothing here imports Qt or pyqtgraph (an import-linter contract and tests/core/test_qt_free.py
check it). TensorFlow is imported lazily, inside the functions that need it.

One room per concern; imports flow down this list, never up (import-linter contracts in
pyproject.toml keep it so):

    experiments/   sweeps over a training setting, their results and the energy they cost
    evaluation/    metrics reports, comparisons, a model on a feature set   | live/  live input, takes
    predict/       a bundle's prediction on files and live windows, aggregation
    learn/         models, training, callbacks, the TensorFlow thread, bundles, runs
    features/      log-mel, clip features, feature sets, extraction and its cache
    datasets/      importers per layout, projects, splits, the starter set
    audio/         decode, resample, devices, capture, playback, ring buffer   | display/  mel axes, PNGs

and, shared by all of them, the modules at the top: errors, events (the only objects that cross
threads), config, fileio, resources, userdirs (the user's data and cache folders).
"""
