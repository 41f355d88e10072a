"""Training on several GPUs of one machine, or on several machines, with tf.distribute.

  one machine, several GPUs   MirroredStrategy, chosen by itself when TensorFlow sees more than
                              one GPU; Keras' own model.fit runs under it.
  several machines            MultiWorkerMirroredStrategy, configured by TF_CONFIG, or by
                              `train --workers host1:port,host2:port --worker-index N` (which
                              writes TF_CONFIG). Every worker runs the same command on the same
                              data with its own index; worker 0 is the chief: it shows the curves
                              and saves the bundle.

Why a loop of our own for several machines: Keras 3's model.fit does not run under
MultiWorkerMirroredStrategy (keras-team/keras#20585: "Attempt to convert a value (PerReplica ...)").
fit_multi_worker below is the loop from TensorFlow's custom-training guide (strategy.run, losses
averaged over the *global* batch, gradients all-reduced) and drives the same Keras callbacks as
model.fit (KeepBest, the stopping rules, KerasBridge's events), so the chief's curves look as a
single run's do. With the same global batch, seed and data its curves equal a one-worker run's
(tests/core/test_distribute.py).

Backends: this module is TensorFlow only. On JAX, keras.distribution (DataParallel over
jax.devices()) spreads one process' batches over local devices; multi-host JAX needs
jax.distributed.initialize on every host and is not wired here. PyTorch: not supported (Keras has
no torch distribution API). See docs/scale.md.
"""

from __future__ import annotations

import json
import os

from ..errors import ConfigError


def parse_workers(text: str) -> list[str]:
    workers = [w.strip() for w in text.split(",") if w.strip()]
    for w in workers:
        host, sep, port = w.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(f"--workers takes host:port,host:port,...; {w!r} has no port")
    if len(workers) < 1:
        raise ConfigError("--workers needs at least one host:port")
    return workers


def configure_workers(workers: list[str], index: int) -> dict:
    """Write TF_CONFIG for worker `index` of `workers` (before TensorFlow starts its runtime)."""
    if not 0 <= index < len(workers):
        raise ConfigError(f"--worker-index must be in 0..{len(workers) - 1}, got {index}")
    config = {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": int(index)}}
    os.environ["TF_CONFIG"] = json.dumps(config)
    return config


def cluster_spec() -> tuple[int, int]:
    """(number of workers, this worker's index) from TF_CONFIG; (1, 0) without one."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
        workers = config.get("cluster", {}).get("worker", [])
        return max(1, len(workers)), int(config.get("task", {}).get("index", 0))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"TF_CONFIG is not valid JSON of a cluster: {exc}") from exc


def cluster_configured() -> bool:
    return bool(os.environ.get("TF_CONFIG"))


def is_chief() -> bool:
    return cluster_spec()[1] == 0


_strategy = {}


def strategy_for_run():
    """(kind, strategy): ("multi-worker", MWMS) under a TF_CONFIG (of one worker or more),
    ("mirrored", MirroredStrategy) with two or more local GPUs, else (None, None).
    One strategy per process: TensorFlow allows a collective strategy to be made only once."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None, None
    n_workers, _ = cluster_spec()
    if "kind" in _strategy:
        return _strategy["kind"], _strategy["strategy"]
    from .tfthread import import_tensorflow

    tf = import_tensorflow()
    if n_workers > 1 or os.environ.get("TF_CONFIG"):   # one worker too: the reference run of a cluster
        kind, strategy = "multi-worker", tf.distribute.MultiWorkerMirroredStrategy()
    elif len(tf.config.list_physical_devices("GPU")) > 1:
        kind, strategy = "mirrored", tf.distribute.MirroredStrategy()
    else:
        kind, strategy = None, None
    _strategy.update(kind=kind, strategy=strategy)
    return kind, strategy


def distributed_scope(strategy):
    """strategy.scope() (variables made inside are mirrored), or a scope that does nothing."""
    import contextlib

    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def as_dataset(data, *, batch: int, seed: int, shuffle: bool):
    """A batched tf.data.Dataset of (x, y) arrays (shuffled with the seed: every worker draws the
    same global batches), or a stream's dataset as it is."""
    import tensorflow as tf

    if not isinstance(data, tuple):
        return data
    x, y = data
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.batch(batch).with_options(options)


def fit_multi_worker(model, strategy, *, train, val, epochs: int, batch: int, seed: int, callbacks,
                     class_weight=None) -> None:
    """model.fit's contract (callbacks, logs, stop_training) for MultiWorkerMirroredStrategy."""
    import keras
    import tensorflow as tf

    if class_weight:
        raise ConfigError("class weights are not supported in multi-worker training yet")
    train_ds = strategy.experimental_distribute_dataset(as_dataset(train, batch=batch, seed=seed, shuffle=True))
    val_ds = (strategy.experimental_distribute_dataset(as_dataset(val, batch=batch, seed=seed, shuffle=False))
              if val is not None else None)
    optimizer = model.optimizer
    loss_of = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    sum_ = tf.distribute.ReduceOp.SUM

    def replica_step(x, y, training: bool):
        with tf.GradientTape() as tape:
            p = model(x, training=training)
            per = loss_of(y, p)
            loss = tf.nn.compute_average_loss(per, global_batch_size=batch)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        if training:
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(p, axis=-1), tf.cast(y, tf.int64)), tf.float32))
        return tf.reduce_sum(per), correct, tf.cast(tf.shape(y)[0], tf.float32)

    @tf.function
    def train_step(x, y):
        out = strategy.run(replica_step, args=(x, y, True))
        return [strategy.reduce(sum_, v, axis=None) for v in out]

    @tf.function
    def val_step(x, y):
        out = strategy.run(replica_step, args=(x, y, False))
        return [strategy.reduce(sum_, v, axis=None) for v in out]

    cbs = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(int(epochs)):
        cbs.on_epoch_begin(epoch)
        total = correct = seen = 0.0
        for i, (x, y) in enumerate(train_ds):
            loss_sum, n_correct, n = (float(v) for v in train_step(x, y))
            total, correct, seen = total + loss_sum, correct + n_correct, seen + n
            cbs.on_train_batch_end(i, {"loss": total / seen, "accuracy": correct / seen})
        logs = {"loss": total / max(seen, 1), "accuracy": correct / max(seen, 1)}
        if val_ds is not None:
            v_total = v_correct = v_seen = 0.0
            for x, y in val_ds:
                loss_sum, n_correct, n = (float(v) for v in val_step(x, y))
                v_total, v_correct, v_seen = v_total + loss_sum, v_correct + n_correct, v_seen + n
            logs.update(val_loss=v_total / max(v_seen, 1), val_accuracy=v_correct / max(v_seen, 1))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
