"""Names for runs shown together: what differs between them ("lr 0.01", "batch 512", "adam" / "sgd"),
not "run 1" and "run 2". Pure functions (no Qt): the Training panel's legends use them.
"""

from __future__ import annotations

from collections.abc import Mapping


def run_settings(config, feature_kind: str = "", dataset: str = "") -> dict:
    """The settings of a run that can tell it apart from another (a TrainConfig and its features)."""
    out = {"model": config.model, "features": feature_kind, "dataset": dataset, "optimizer": config.optimizer,
           "lr": config.learning_rate, "batch": config.batch_size, "epochs": config.epochs,
           "seed": config.seed, "class weights": config.class_weights, "stop": config.stop_rule}
    for name, value in sorted((config.model_params or {}).items()):
        out[f"param {name}"] = value
    return out


def _value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(_value(v) for v in value)
    return str(value)


def _part(field: str, value) -> str:
    if field in ("model", "features", "dataset", "optimizer"):
        return _value(value)              # "cnn", "mfcc", "adam": the word says what it is
    if field == "class weights":
        return "balanced" if value else "unweighted"
    if field.startswith("param "):
        field = field[len("param "):]
    return f"{field} {_value(value)}"


def run_labels(settings: Mapping[object, Mapping]) -> dict[object, str]:
    """{run key: label}: each run named by the settings that differ among those given. One run
    alone: its model, optimizer, learning rate and batch size. Runs that differ in nothing get
    their key appended ("lr 0.01 (run 3)")."""
    keys = list(settings)
    if not keys:
        return {}
    if len(keys) == 1:
        s = settings[keys[0]]
        return {keys[0]: f"{s.get('model', '')} · {s.get('optimizer', '')} lr {_value(s.get('lr'))} · "
                         f"batch {_value(s.get('batch'))}"}
    fields = []
    for s in settings.values():
        fields += [f for f in s if f not in fields]
    missing = object()
    differing = [f for f in fields if len({repr(settings[k].get(f, missing)) for k in keys}) > 1]
    labels = {}
    for k in keys:
        parts = [_part(f, settings[k][f]) for f in differing if f in settings[k]]
        labels[k] = ", ".join(parts) if parts else f"run {k}"
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {k: (f"{label} (run {k})" if seen[label] > 1 and label != f"run {k}" else label)
            for k, label in labels.items()}
