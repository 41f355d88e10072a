"""The Evaluation panel's background jobs: a run or a bundle + data set, evaluated off the GUI
thread with progress events; TensorFlow work goes to its one long-lived thread (core/learn/tfthread.py)."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path

from ...core.evaluation.report import evaluate_bundle_on_dataset, evaluate_model
from ...core.events import Progress
from ...core.learn.tfthread import run_in_tf_thread


@dataclass
class ModelToEvaluate:
    """A finished training run offered for evaluation: its model and the features it was made from."""

    name: str
    model: object        # a TrainedModel or a Bundle: labels, feature_config, predict_proba
    features: object     # the FeatureSet


def _events_of(job, *args, **kwargs):
    """Run job(*args, on_event=..., should_stop=..., **kwargs) in a helper thread and yield its
    events here (a generator worker), then return its result. Stopping the generator stops the job."""
    events: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()
    box: dict = {}

    def target():
        try:
            # The job runs here (feature extraction included) and hands its TensorFlow steps to the
            # one long-lived TensorFlow thread (core/learn/tfthread.py says why).
            box["result"] = job(*args, on_event=events.put, should_stop=stop.is_set, run_tf=run_in_tf_thread,
                                **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread below
            box["error"] = exc
        finally:
            events.put(StopIteration)

    thread = threading.Thread(target=target, name="evaluation", daemon=True)
    thread.start()
    try:
        while (event := events.get()) is not StopIteration:
            yield event
    finally:
        stop.set()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def evaluate_bundle_job(bundle_path, dataset_dir, split):
    bundle, dataset, evaluation = yield from _events_of(evaluate_bundle_on_dataset, bundle_path, dataset_dir,
                                                        split=split)
    return f"{Path(bundle_path).name} on {dataset.name}", bundle, evaluation


def evaluate_run_job(run: ModelToEvaluate, split: str):
    yield Progress("evaluating", 0, None, f"running {run.name} on the {split} split")
    return run.name, run.model, run_in_tf_thread(evaluate_model, run.model, run.features, split=split)
