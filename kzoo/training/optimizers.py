"""Optimizers: a validated factory, and clipping and loss scaling that are right across replicas.

Gradient clipping is an optimizer argument in Keras 3, not a training-loop
step. kzoo uses `global_clipnorm`: all gradients are scaled together so that
their joint L2 norm is at most the given value, which keeps the update's
direction (Transformers commonly clip at 1.0). The alternatives Keras offers,
and `make_optimizer` passes through, are `clipnorm` (each variable's
gradient clipped on its own) and `clipvalue` (elementwise); at most one of
the three may be set. Under `mixed_float16` the `LossScaleOptimizer` unscales
gradients before the wrapped optimizer clips them, so the threshold applies
to the true gradients (see `kzoo.training.precision`).

Weight decay is decoupled (Loshchilov & Hutter) for every Keras 3 optimizer:
`variable -= learning_rate * weight_decay * variable` each step, apart from
the gradient. By default `make_optimizer` leaves biases and LayerNorm scales
and offsets (variable names matching "bias", "gamma", "beta") undecayed, as
BERT and GPT-2 training do. That exclusion is not part of the optimizer's
config: an optimizer loaded back from a `.keras` file decays every variable
unless `exclude_from_weight_decay` is called again before it is built.
(`AtomicBackupAndRestore` loads weights into the optimizer built here, so a
resumed run keeps the exclusion.)

Two Keras 3 defects under several replicas, and the fix
--------------------------------------------------------
Measured with Keras 3.15.1 / TensorFlow 2.21 on a 2-replica
`MirroredStrategy` over two logical CPU devices (tests/training/
distributed_script.py); both follow from the TensorFlow backend summing the
replicas' gradients inside the optimizer's update step, after everything
else the optimizer does to them:

1. Clipping acts on each replica's local gradient, before the sum
   (`Optimizer._backend_apply_gradients` calls `_clip_gradients`, then
   `_backend_update_step` all-reduces). Each replica's gradient is roughly
   1/N of the true one, so a threshold clips far less than on one device,
   and not in the true gradient's direction. Measured: SGD with
   `global_clipnorm=0.5`, 4 steps, weights differ from the single-device run
   by about 0.1 (by 4e-8 without clipping). tf.keras (TF 2.2) disabled
   clipping under distribution strategies for this reason
   (tensorflow/tensorflow#33929).
2. `LossScaleOptimizer` decides whether the gradients are finite from
   replica 0's local gradients only (its merge-call path takes "the first
   replica's" result, assuming gradients were already all-reduced). When
   another replica overflows in float16, the infinite gradients are summed
   in and applied: measured, every weight became infinite (NaN with
   clipping) where the single-device run skipped the step and halved the
   loss scale. (Where a strategy runs
   the update without merge calls, replicas that disagree would take
   different branches around the collective in the update; not measured.)

kzoo's optimizer classes (`AdamW`, `Adam`, `SGD`, and `LossScaleOptimizer`,
which `make_optimizer` and `kzoo.training.precision.wrap_optimizer` return)
are the Keras classes with one method changed each:

1. `_clip_gradients` (only when clipping is set and there are several
   replicas) all-reduces the gradients first, clips their sum exactly as
   Keras does on one device, and returns `clipped / N` on every replica,
   which Keras's own all-reduce then sums back to the clipped gradient. This
   costs one extra all-reduce per step, only with clipping. (Keras clips
   the accumulated gradient under `gradient_accumulation_steps` in the same
   method, so that path goes through the fix too; it is not tested.)
2. `check_finite` all-reduces a "some replica is not finite" flag, so every
   replica takes the same decision, the one a single device would take.

Measured after the fix (tests/training/test_optimizers.py and
test_precision.py): 2-replica runs match single-device runs within 1e-6 in
float32 (0.0 for SGD with `global_clipnorm`, 6e-8 for AdamW with
`clipnorm`) and within 4e-6 under `mixed_float16` with clipping; the
overflowing replica's step is skipped. With two
`MultiWorkerMirroredStrategy` workers on 127.0.0.1 (checked by hand, not in
the test suite), SGD with `global_clipnorm` matched the single-process run
exactly (Keras's own SGD: off by 0.12) and `mixed_float16` AdamW with
clipping within 4e-6. Outside multi-replica training the classes behave
exactly like Keras's. They are registered serializables
(package "kzoo"); `kzoo.training.custom_objects()` imports them.

Example:
```python
from kzoo.training.optimizers import make_optimizer
from kzoo.training.schedules import WarmupCosineDecay

schedule = WarmupCosineDecay(peak_learning_rate=5e-4, warmup_steps=100, decay_steps=900)
optimizer = make_optimizer("adamw", learning_rate=schedule, weight_decay=0.01, global_clipnorm=1.0)
```

References:
    - [Loshchilov & Hutter, 2019](https://arxiv.org/abs/1711.05101) (AdamW)
    - [Pascanu et al., 2013](https://arxiv.org/abs/1211.5063) (clipping by norm)
    - tensorflow/tensorflow#33929 (why clipping must follow the all-reduce)
"""

import keras

from kzoo.runtime.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
)

OPTIMIZER_NAMES = ("adamw", "adam", "sgd")
DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY = ("bias", "gamma", "beta")


def _multi_replica_context():
    """The replica context when several replicas run this code, else None."""
    import tensorflow as tf

    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return None
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


if not hasattr(keras.optimizers.Optimizer, "_clip_gradients"):  # pragma: no cover
    raise ImportError(
        "kzoo.training.optimizers overrides keras.optimizers.Optimizer."
        f"_clip_gradients, which Keras {keras.__version__} no longer has; check "
        "whether Keras now clips after the cross-replica sum and update the module."
    )


class _ClipAfterAllReduce:
    """Clips the replicas' summed gradient instead of each replica's (see the module docstring)."""

    def _clip_gradients(self, grads):
        if not (self.clipnorm or self.global_clipnorm or self.clipvalue):
            return grads
        context = _multi_replica_context()
        if context is None:
            return super()._clip_gradients(grads)
        import tensorflow as tf

        present = [i for i, g in enumerate(grads) if g is not None]
        # IndexedSlices (embedding gradients) become dense for the sum.
        summed = context.all_reduce("sum", [tf.convert_to_tensor(grads[i]) for i in present])
        clipped = super()._clip_gradients(summed)
        replicas = context.num_replicas_in_sync
        result = list(grads)
        for i, gradient in zip(present, clipped):
            result[i] = gradient / replicas  # Keras's all-reduce sums these back.
        return result


@keras.saving.register_keras_serializable(package="kzoo")
class AdamW(_ClipAfterAllReduce, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` whose clipping acts on the all-reduced gradient.

    Same arguments as Keras's. See the module docstring for the fix.

    Example:
    ```python
    optimizer = AdamW(learning_rate=1e-3, weight_decay=0.01, global_clipnorm=1.0)
    ```
    """


@keras.saving.register_keras_serializable(package="kzoo")
class Adam(_ClipAfterAllReduce, keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose clipping acts on the all-reduced gradient.

    Same arguments as Keras's. See the module docstring for the fix.

    Example:
    ```python
    optimizer = Adam(learning_rate=1e-3, beta_2=0.98, epsilon=1e-9, global_clipnorm=1.0)
    ```
    """


@keras.saving.register_keras_serializable(package="kzoo")
class SGD(_ClipAfterAllReduce, keras.optimizers.SGD):
    """`keras.optimizers.SGD` whose clipping acts on the all-reduced gradient.

    Same arguments as Keras's. See the module docstring for the fix.

    Example:
    ```python
    optimizer = SGD(learning_rate=0.1, momentum=0.9, global_clipnorm=1.0)
    ```
    """


@keras.saving.register_keras_serializable(package="kzoo")
class LossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """`keras.optimizers.LossScaleOptimizer` whose finiteness check covers every replica.

    Same arguments as Keras's. A step is skipped (and the loss scale halved)
    when any replica's gradients are not finite, as on a single device. See
    the module docstring for the defect this fixes.

    Example:
    ```python
    optimizer = LossScaleOptimizer(AdamW(learning_rate=1e-3, global_clipnorm=1.0))
    ```
    """

    def check_finite(self, grads):
        finite = super().check_finite(grads)
        context = _multi_replica_context()
        if context is None:
            return finite
        from keras import ops

        not_finite = context.all_reduce("sum", ops.cast(ops.logical_not(finite), "float32"))
        return ops.equal(not_finite, 0.0)


_CLASSES = {"adamw": AdamW, "adam": Adam, "sgd": SGD}
_DEFAULT_WEIGHT_DECAY = {"adamw": 0.01, "adam": 0.0, "sgd": 0.0}


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate
    try:
        return check_positive_float("learning_rate", learning_rate)
    except ValueError:
        raise ValueError(
            "Received an invalid value for argument `learning_rate`, expected a "
            "positive number or a keras.optimizers.schedules.LearningRateSchedule. "
            f"Received: learning_rate={learning_rate!r}"
        ) from None


def _check_optional_positive(name, value):
    return None if value is None else check_positive_float(name, value)


def make_optimizer(
    name="adamw",
    learning_rate=1e-3,
    weight_decay=None,
    global_clipnorm=None,
    clipnorm=None,
    clipvalue=None,
    exclude_from_weight_decay=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
    **kwargs,
):
    """Builds a Keras optimizer by name, with validated arguments.

    Args:
        name: str, default "adamw". One of `OPTIMIZER_NAMES`.
        learning_rate: positive float or a `LearningRateSchedule` (see
            `kzoo.training.schedules`). Default 1e-3.
        weight_decay: non-negative float or None. None means 0.01 for "adamw"
            and no decay for "adam" and "sgd". Decoupled from the gradient.
        global_clipnorm: optional positive float: clip all gradients together
            to this L2 norm (kzoo's choice; see the module docstring).
        clipnorm: optional positive float: clip each variable's gradient to
            this norm. Exclusive with the other two.
        clipvalue: optional positive float: clip each gradient element.
        exclude_from_weight_decay: sequence of regular expressions matched
            against variable names; matching variables are not decayed.
            Default `("bias", "gamma", "beta")`. Empty or None to decay
            all.
        **kwargs: other arguments of the Keras optimizer class (`beta_1`,
            `beta_2`, `epsilon`, `momentum`, `nesterov`, `name`, ...).

    Returns:
        A kzoo `AdamW`, `Adam` or `SGD` (the Keras class, with clipping that
        is right under several replicas).

    Raises:
        ValueError: for an unknown `name`, a non-positive `learning_rate` or
            clipping threshold, a negative `weight_decay`, or more than one
            clipping argument.
    """
    check_choice("name", name, OPTIMIZER_NAMES)
    learning_rate = _check_learning_rate(learning_rate)
    if weight_decay is None:
        weight_decay = _DEFAULT_WEIGHT_DECAY[name]
    else:
        weight_decay = check_non_negative_float("weight_decay", weight_decay)
    clipping = {
        "global_clipnorm": _check_optional_positive("global_clipnorm", global_clipnorm),
        "clipnorm": _check_optional_positive("clipnorm", clipnorm),
        "clipvalue": _check_optional_positive("clipvalue", clipvalue),
    }
    chosen = {k: v for k, v in clipping.items() if v is not None}
    if len(chosen) > 1:
        raise ValueError(
            "Received conflicting arguments, expected at most one of "
            "`global_clipnorm`, `clipnorm` and `clipvalue` to be set. "
            f"Received: {', '.join(f'{k}={v}' for k, v in chosen.items())}"
        )
    if exclude_from_weight_decay is None:
        exclude_from_weight_decay = ()
    if isinstance(exclude_from_weight_decay, str) or not all(
        isinstance(p, str) for p in exclude_from_weight_decay
    ):
        raise ValueError(
            "Received an invalid value for argument `exclude_from_weight_decay`, "
            "expected a sequence of variable-name patterns. "
            f"Received: exclude_from_weight_decay={exclude_from_weight_decay!r}"
        )
    optimizer = _CLASSES[name](
        learning_rate=learning_rate,
        # AdamW needs a float; the others take None for "no decay".
        weight_decay=weight_decay if name == "adamw" else (weight_decay or None),
        **chosen,
        **kwargs,
    )
    if weight_decay and exclude_from_weight_decay:
        optimizer.exclude_from_weight_decay(var_names=list(exclude_from_weight_decay))
    return optimizer
