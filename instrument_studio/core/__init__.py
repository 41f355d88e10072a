"""The Qt-free core: audio, features, datasets, models, training, evaluation, prediction.

Nothing here imports Qt or pyqtgraph (an import-linter contract and tests/core/test_qt_free.py
check it). TensorFlow is imported lazily, inside the functions that need it.
"""
