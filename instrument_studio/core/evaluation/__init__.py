"""Evaluation: metrics reports, threshold comparison, run comparison tables, a model on a feature set."""
