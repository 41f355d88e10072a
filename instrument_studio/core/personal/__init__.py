"""Personal models: Teach, a model learnt from the user's own takes on top of the default model."""
