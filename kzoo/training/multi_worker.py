"""Multi-worker data-parallel `model.fit` for Keras 3 on TensorFlow.

Under Keras 3 (checked with 3.15.1 on TensorFlow 2.21), `model.fit` on a model
built inside a `tf.distribute.MultiWorkerMirroredStrategy` scope fails as soon
as there are two or more workers:

    ValueError: Attempt to convert a value (PerReplica:{...}) with an
    unsupported type (<class '...values.PerReplica'>) to a Tensor.

Upstream: https://github.com/keras-team/keras/issues/20585 (open at the time
of writing; also tensorflow/tensorflow#72388). Single-worker strategies
(`MirroredStrategy`, one-worker `MultiWorkerMirroredStrategy`) are not
affected.

Root cause
----------
Two defects in `keras/src/backend/tensorflow/trainer.py`, both only on the
path taken when `CollectiveAllReduceExtended._in_multi_worker_mode()` is true.
Both were confirmed with two workers on 127.0.0.1 (the second one shows up
only once the first is fixed):

1. `TensorFlowTrainer._maybe_symbolic_build` (called by `fit` and `evaluate`
   before any step runs) pulls the first batch from the distributed iterator,
   a nest such as `(PerReplica(x), PerReplica(y))`, and hands the whole nest
   to `strategy.reduce("MEAN", batch, axis=None)`, just to get a batch whose
   shapes and dtypes it can build the model from. `tf.distribute.Strategy.
   reduce` does not accept nests (its source says "TODO(josh11b): support
   `value` being a nest"). With one worker, `CollectiveAllReduceExtended.
   _reduce_to` hands a value that is not itself a `DistributedValues` to
   `reduce_non_distributed_value`, which returns it unchanged for MEAN, so the
   nest slips through. With several workers it goes to the collective
   `CrossDeviceOps.reduce` -> `_make_tensor_into_per_replica`, which calls
   `convert_to_tensor` on the tuple of `PerReplica` values: that is the error
   above. (Had it worked, it
   would have all-reduced a whole input batch across the cluster only to read
   its shape.)
2. `reduce_per_replica`, used by the train and test step functions with
   `reduction="auto"` (which means "mean" off TPU), takes a multi-worker
   branch that calls `strategy.reduce("MEAN", v, axis=0)` on every log value.
   The logs are scalars (loss and metric results), so this fails while
   tracing with "Invalid reduction dimension 0 for input with 0 dimensions".
   Off that branch Keras averages the per-replica results elementwise
   (`tf.reduce_mean(local_results, axis=0)`); the multi-worker equivalent is
   `strategy.reduce("MEAN", v, axis=None)`.

The fix
-------
`enable()` replaces those two pieces of Keras (the method
`TensorFlowTrainer._maybe_symbolic_build` and the module function
`keras.src.backend.tensorflow.trainer.reduce_per_replica`) with wrappers that
handle the multi-worker case as above and hand every other case to the
original code unchanged:

1. the build batch is the first local replica's component of each input
   (`strategy.experimental_local_results(v)[0]`): same per-replica shapes and
   dtypes, no communication;
2. train/test logs are averaged over all replicas of all workers with
   `strategy.reduce("MEAN", v, axis=None)`, as Keras does for one worker.

Why a patch and not a subclass: the first defect is in a private method that
every Keras model inherits (kzoo's backbones are functional models that other
modules build), and the second is a module-level function called from a
closure inside `TensorFlowTrainer._make_function`. A mixin would have to copy
that whole method and would only cover the models that inherit it. So the
patch is explicit, not done at import: `enable()` is idempotent, checks that
the Keras internals it replaces still exist (and raises if not), and
`disable()` puts the originals back. Call it where the strategy is created
(for kzoo, the strategy factory behind `kzoo train`). Outside multi-worker
mode the wrappers call the original code unchanged, so enabling it for every
run is safe.

Input sharding
--------------
`with_data_sharding(dataset)` sets `AutoShardPolicy.DATA` explicitly. kzoo
builds its pipelines from Python generators and in-memory tensors, which have
no files to shard, so `AUTO` would fall back to `DATA` anyway (with a warning).
With `DATA`, `experimental_distribute_dataset` splits each global batch into
per-replica batches and each worker keeps its own slices, so the replicas of a
step together see exactly the global batch a single-worker run would see.
That is what makes the loss curves match below. The cost is that every worker
runs the whole pipeline and discards the other workers' elements, which is
fine for text pipelines that are cheap next to the model. It needs the
pipeline to yield the same elements in the same order on every worker
(seeded generators and shuffles). Use `policy="off"` only for a pipeline that
already shards itself per worker: with `OFF`, an unsharded pipeline gives
every worker the same data.

The global batch size is the one the user sets. It must divide evenly by
`strategy.num_replicas_in_sync`, otherwise replicas average over unequal
batches and the run is no longer equivalent to a single-worker one
(`per_replica_batch_size` checks this).

Comparing a distributed run with a one-device run step by step needs a
pipeline that does not reshuffle per pass: under any distribution strategy
Keras draws one batch from a throwaway iterator to build the model and then
trains on a fresh one, so a dataset with `reshuffle_each_iteration=True` (as
`task_dataset(..., shuffle=True)` is) starts the distributed run on the second
shuffle order. Training is equivalent either way; only the batch order differs.

Saving
------
Every worker must call `save_model`. The chief writes the real file (to a
temporary name first, then renamed into place); the other workers write into
a private temporary folder that is deleted afterwards: the standard
multi-worker pattern. It keeps saving symmetric across workers, which
matters because a variable read outside a step can be a collective: a
metric's sync-on-read variable read on the chief alone is an all-reduce that
waits for the other workers (measured: it failed once worker 1 exited). Keras
3.15's `.keras` writer happens not to read such variables, so a chief-only
`model.save` worked in a trial, but kzoo does not rely on that.

Known limit
-----------
`steps_per_execution` must be 1. With more, Keras 3.15 runs the steps in a
`tf.while_loop` with a `tf.cond` around each step, and graph execution fails
with "You must feed a value for placeholder tensor '.../while/cond/
Placeholder'" (keras-team/keras#19246). That happens with a 2-replica
`MirroredStrategy` as well, and with the log reduction taken out of the step,
so it is not part of #20585 and not fixed here. Under multi-worker the patched
build step turns it into a `ValueError` that says so, before any step runs.

Measured equivalence (tests/training/test_multi_worker.py)
----------------------------------------------------------
A tiny dense regression model, SGD with momentum, generator-backed data,
global batch 8, 2 epochs x 4 steps. Two workers on 127.0.0.1 end with
bit-identical weights and optimizer state. Their per-step losses match a
single-process run on the same global batches within rtol 1e-5 (measured: at
most 5e-7 relative), and their final weights, evaluate loss and predictions
match it within atol 1e-6 (measured: 5e-8). A 2-replica `MirroredStrategy` on
two logical CPU devices matches the single-device run within the same
tolerances (same measured numbers). Models that draw random numbers per
replica (dropout) train correctly but do not reproduce a single-worker run
exactly.

Example (run the same script on every worker, each with its TF_CONFIG; without
TF_CONFIG it trains on one worker):

```python
import numpy as np
import tensorflow as tf
import keras
from kzoo.training import multi_worker

multi_worker.enable()                      # before the first fit/evaluate
strategy = tf.distribute.MultiWorkerMirroredStrategy()   # reads TF_CONFIG
global_batch = 64
multi_worker.per_replica_batch_size(global_batch, strategy)  # raises if uneven
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
x = np.random.default_rng(0).normal(size=(1024, 4)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices((x, x[:, :1]))
dataset = multi_worker.with_data_sharding(dataset.repeat().batch(global_batch))
model.fit(dataset, epochs=2, steps_per_epoch=16)
multi_worker.save_model(model, "runs/demo/model.keras", strategy)
```

References:
    - keras-team/keras#20585, "Does Keras 3 work with
      `tf.distribute.MultiWorkerMirroredStrategy`?"
    - TensorFlow tutorial "Multi-worker training with Keras" (sharding,
      saving from non-chief workers).
"""

import os
import shutil
import tempfile
import threading

from kzoo.runtime.validation import check_positive_int

SHARD_POLICIES = ("auto", "data", "file", "off")
UPSTREAM_ISSUE = "https://github.com/keras-team/keras/issues/20585"

_lock = threading.Lock()
_originals = {}


def _trainer_module():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "kzoo.training.multi_worker fixes the TensorFlow backend of Keras; "
            f"the active backend is {keras.backend.backend()!r}. Set "
            "KERAS_BACKEND=tensorflow."
        )
    from keras.src.backend.tensorflow import trainer as trainer_module

    missing = [
        name
        for name, present in (
            ("reduce_per_replica", hasattr(trainer_module, "reduce_per_replica")),
            (
                "TensorFlowTrainer._maybe_symbolic_build",
                hasattr(
                    getattr(trainer_module, "TensorFlowTrainer", None),
                    "_maybe_symbolic_build",
                ),
            ),
        )
        if not present
    ]
    if missing:
        raise RuntimeError(
            "kzoo.training.multi_worker cannot apply its fix for "
            f"{UPSTREAM_ISSUE}: this Keras ({keras.__version__}) no longer has "
            f"{', '.join(missing)} in keras/src/backend/tensorflow/trainer.py. "
            "Check whether the issue is fixed upstream and update the module."
        )
    return trainer_module


def is_multi_worker(strategy):
    """Whether `strategy` does collective all-reduce across several workers.

    Args:
        strategy: a `tf.distribute.Strategy`.

    Returns:
        True for a `MultiWorkerMirroredStrategy` whose cluster has more than
        one worker; False otherwise (including a one-worker cluster).
    """
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()
    )


def _first_local_batch(epoch_iterator, strategy):
    """The first batch of a Keras epoch iterator, first local replica's part."""
    import tensorflow as tf
    from keras.src import tree

    for _, _, iterator in epoch_iterator:
        batch = next(iterator)
        return tree.map_structure(
            lambda v: (
                strategy.experimental_local_results(v)[0]
                if isinstance(v, tf.distribute.DistributedValues)
                else v
            ),
            batch,
        )
    return None


def _make_maybe_symbolic_build(original):
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras all-reduces the whole nested input batch here (fails on several
        # workers, keras-team/keras#20585); its shapes and dtypes are all
        # `_symbolic_build` needs, and the first local replica has them.
        if (
            iterator is not None
            and self._distribute_strategy is not None
            and is_multi_worker(self.distribute_strategy)
        ):
            if self.steps_per_execution != 1:
                raise ValueError(
                    "Received an invalid value for argument `steps_per_execution`, "
                    "expected 1 under MultiWorkerMirroredStrategy: Keras 3 runs "
                    "several steps in a tf.while_loop, which fails under "
                    "tf.distribute (keras-team/keras#19246). "
                    f"Received: steps_per_execution={self.steps_per_execution}"
                )
            data_batch = _first_local_batch(iterator, self.distribute_strategy)
            iterator = None
        return original(self, iterator=iterator, data_batch=data_batch)

    _maybe_symbolic_build.__doc__ = original.__doc__
    _maybe_symbolic_build._kzoo_multi_worker_fix = True
    return _maybe_symbolic_build


def _make_reduce_per_replica(original):
    def reduce_per_replica(values, strategy, reduction):
        # Keras's multi-worker branch reduces scalar logs along axis 0, which
        # does not exist (keras-team/keras#20585). Average them over every
        # replica of every worker, as Keras does over local replicas.
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            from keras.src import tree

            return tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None), values
            )
        return original(values, strategy, reduction)

    reduce_per_replica.__doc__ = original.__doc__
    reduce_per_replica._kzoo_multi_worker_fix = True
    return reduce_per_replica


def enable():
    """Applies the fix for keras-team/keras#20585; idempotent.

    Call it once before the first `fit` or `evaluate` of a model built under
    a multi-worker `MultiWorkerMirroredStrategy`. Has no effect on runs that
    are not multi-worker. See the module docstring for what it replaces.

    Raises:
        RuntimeError: if the Keras backend is not TensorFlow, or if the Keras
            internals this fix replaces no longer exist.
    """
    with _lock:
        if _originals:
            return
        trainer_module = _trainer_module()
        trainer_cls = trainer_module.TensorFlowTrainer
        _originals["maybe_symbolic_build"] = trainer_cls._maybe_symbolic_build
        _originals["reduce_per_replica"] = trainer_module.reduce_per_replica
        trainer_cls._maybe_symbolic_build = _make_maybe_symbolic_build(
            _originals["maybe_symbolic_build"]
        )
        trainer_module.reduce_per_replica = _make_reduce_per_replica(
            _originals["reduce_per_replica"]
        )


def disable():
    """Restores the Keras code `enable()` replaced; a no-op if not enabled.

    Step functions that `fit` or `evaluate` already built keep the reduction
    they were built with; call `model.make_train_function(force=True)` (and
    the test counterpart) to rebuild them.
    """
    with _lock:
        if not _originals:
            return
        from keras.src.backend.tensorflow import trainer as trainer_module

        trainer_module.TensorFlowTrainer._maybe_symbolic_build = _originals.pop(
            "maybe_symbolic_build"
        )
        trainer_module.reduce_per_replica = _originals.pop("reduce_per_replica")


def is_enabled():
    """Whether `enable()` is in effect."""
    return bool(_originals)


def is_chief(strategy=None):
    """Whether this process is the chief of its cluster.

    The chief is the task of type "chief" if the cluster has one, else worker
    0. A process that is not part of a cluster is its own chief.

    Args:
        strategy: a `tf.distribute.Strategy`; defaults to the current one.

    Returns:
        bool.
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def per_replica_batch_size(global_batch_size, strategy):
    """Validates a global batch size against a strategy and splits it.

    Args:
        global_batch_size: int. The batch size of one training step across all
            replicas, as the user sets it.
        strategy: a `tf.distribute.Strategy`.

    Returns:
        int, the batch size each replica sees.

    Raises:
        ValueError: if `global_batch_size` is not a positive integer or does
            not divide evenly by `strategy.num_replicas_in_sync`.
    """
    replicas = strategy.num_replicas_in_sync
    check_positive_int("global_batch_size", global_batch_size)
    if global_batch_size % replicas:
        raise ValueError(
            "Received an invalid value for argument `global_batch_size`, "
            f"expected a multiple of the number of replicas ({replicas}). "
            f"Received: global_batch_size={global_batch_size}"
        )
    return global_batch_size // replicas


def with_data_sharding(dataset, policy="data"):
    """Sets how `tf.distribute` shards `dataset` across workers.

    Args:
        dataset: a batched `tf.data.Dataset` (batched to the global batch size).
        policy: str, default `"data"`. One of `"data"` (every worker runs the
            whole pipeline and keeps its own slice of each global batch: the
            kzoo default, see the module docstring), `"off"` (the pipeline
            already shards itself per worker), `"file"` or `"auto"`.

    Returns:
        The dataset with `experimental_distribute.auto_shard_policy` set.

    Raises:
        ValueError: for an unknown `policy`.
    """
    import tensorflow as tf

    if policy not in SHARD_POLICIES:
        raise ValueError(
            "Received an invalid value for argument `policy`, expected one of "
            f"{', '.join(repr(p) for p in SHARD_POLICIES)}. Received: policy={policy!r}"
        )
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = getattr(
        tf.data.experimental.AutoShardPolicy, policy.upper()
    )
    return dataset.with_options(options)


def worker_filepath(filepath, strategy=None):
    """Where this worker should write `filepath`.

    Args:
        filepath: str, the path the chief writes.
        strategy: a `tf.distribute.Strategy`; defaults to the current one.

    Returns:
        `filepath` on the chief; on other workers the same file name inside a
        new private temporary folder, which the caller deletes.
    """
    if is_chief(strategy):
        return filepath
    return os.path.join(
        tempfile.mkdtemp(prefix="kzoo-worker-"), os.path.basename(filepath)
    )


def save_model(model, filepath, strategy=None):
    """Saves `model` the multi-worker way; every worker must call it.

    The chief writes `filepath` (first to a temporary name in the same folder,
    then renamed into place, so an interrupted save never leaves a partial
    file under the final name). Other workers write to a private temporary
    folder that is removed afterwards.

    Args:
        model: a `keras.Model`.
        filepath: str, a `.keras` path.
        strategy: a `tf.distribute.Strategy`; defaults to the model's.

    Returns:
        `filepath` on the chief, None on other workers.
    """
    strategy = strategy or model.distribute_strategy
    if not is_chief(strategy):
        target = worker_filepath(filepath, strategy)
        try:
            model.save(target)
        finally:
            shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        return None
    folder, name = os.path.split(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    partial = os.path.join(folder, f".{name}.partial-{os.getpid()}.keras")
    try:
        model.save(partial)
        os.replace(partial, filepath)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return filepath
