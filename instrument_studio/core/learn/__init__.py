"""Learning: model registry, training with its Keras callbacks, the one TensorFlow thread, model
bundles on disk and the runs a session keeps."""
