"""Prediction with a trained bundle: files (ranked probabilities and a timeline), live windows, and
how window scores are aggregated into one answer."""
