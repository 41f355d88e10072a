"""Experiments: hyper-parameter sweeps, their results and files, and the energy they cost."""
