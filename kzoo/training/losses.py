"""Cross-entropy that ignores padding and smooths labels, and a masked accuracy.

`keras.losses.SparseCategoricalCrossentropy` ignores a class (`ignore_class`)
but has no `label_smoothing`, and `CategoricalCrossentropy` smooths but needs
one-hot targets the size of the vocabulary. `MaskedSparseCategoricalCrossentropy`
takes integer targets and does both. With smoothing `eps` over a vocabulary
of `V` classes, the target distribution is `(1 - eps) * one_hot(y) + eps / V`
(as in Keras's `CategoricalCrossentropy` and in Szegedy et al.), so per
position

    loss = (1 - eps) * (-log p[y]) + eps * mean_v(-log p[v])

computed from float32 log-probabilities whatever the dtype policy.

Which positions count: a target equal to `ignore_class` (e.g. the pad id), a
zero `sample_weight` (kzoo's token-tagging pipelines weight padding and
non-first sub-tokens 0), and a Keras mask on the predictions all drop a
position. The default reduction `"mean_with_sample_weight"` divides the summed
loss by the summed weights of the positions that count, so padding never
dilutes the mean. `sample_weight` may be `[B]` (one weight per sequence) or
`[B, T]`; it is broadcast over positions first.

Under a `tf.distribute` strategy each replica averages over its own positions
and Keras averages the replicas (as for every Keras loss): when replicas
hold different numbers of real tokens, that differs slightly from the mean
over the global batch.

Example:
```python
import numpy as np
from kzoo.training.losses import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

loss = MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=0.1)
logits = np.random.default_rng(0).normal(size=(2, 5, 11)).astype("float32")
targets = np.array([[4, 7, 2, 0, 0], [3, 3, 9, 8, 0]])
value = loss(targets, logits)              # mean over the 7 non-pad positions
model_metrics = [MaskedAccuracy(ignore_class=0)]
```

References:
    - [Szegedy et al., 2016](https://arxiv.org/abs/1512.00567) (label smoothing)
    - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762) (smoothing 0.1)
"""

import keras
from keras import ops

from kzoo.runtime.validation import check_unit_interval

_EPSILON = 1e-7


def _check_ignore_class(ignore_class):
    if ignore_class is not None and (
        isinstance(ignore_class, bool) or not isinstance(ignore_class, int)
    ):
        raise ValueError(
            "Received an invalid value for argument `ignore_class`, expected None "
            f"or an integer. Received: ignore_class={ignore_class!r}"
        )
    return ignore_class


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected True or "
            f"False. Received: {name}={value!r}"
        )
    return value


def _sparse_labels(y_true, y_pred):
    """[B, T] or [B, T, 1] targets -> [B, T] int32, for [B, T, V] predictions."""
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    return ops.cast(y_true, "int32")


def _position_weights(labels, ignore_class, sample_weight):
    """Float weights shaped like `labels`: 0 where ignored, times `sample_weight`."""
    weights = None
    if ignore_class is not None:
        weights = ops.cast(ops.not_equal(labels, ignore_class), "float32")
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
        if len(sample_weight.shape) == len(labels.shape) + 1 and sample_weight.shape[-1] == 1:
            sample_weight = ops.squeeze(sample_weight, axis=-1)
        while len(sample_weight.shape) < len(labels.shape):  # [B] -> [B, 1]
            sample_weight = ops.expand_dims(sample_weight, axis=-1)
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(labels))
        weights = sample_weight if weights is None else weights * sample_weight
    return weights


def smoothed_sparse_categorical_crossentropy(
    y_true, y_pred, from_logits=True, label_smoothing=0.0, ignore_class=None
):
    """Per-position cross-entropy with label smoothing; 0 at ignored positions.

    Args:
        y_true: `[B, T]` (or `[B, T, 1]`, or `[B]`) integer targets.
        y_pred: `[B, T, V]` logits (or probabilities with `from_logits=False`).
        from_logits: bool, default True.
        label_smoothing: float in [0, 1], default 0.
        ignore_class: optional int; positions with this target get loss 0.

    Returns:
        `[B, T]` float32 losses (not reduced).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    labels = _sparse_labels(y_true, y_pred)
    valid = None
    if ignore_class is not None:
        valid = ops.not_equal(labels, ignore_class)
        labels = ops.where(valid, labels, 0)  # Ignored ids may be out of range (-100).
    y_pred = ops.cast(y_pred, "float32")
    if from_logits:
        log_probs = ops.log_softmax(y_pred, axis=-1)
    else:
        probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        log_probs = ops.log(ops.clip(probs, _EPSILON, 1.0))
    target_log_probs = ops.take_along_axis(log_probs, ops.expand_dims(labels, -1), axis=-1)
    losses = -ops.squeeze(target_log_probs, axis=-1)  # [B, T]
    if label_smoothing:
        uniform = -ops.mean(log_probs, axis=-1)  # [B, T]
        losses = (1.0 - label_smoothing) * losses + label_smoothing * uniform
    if valid is not None:
        losses = ops.where(valid, losses, 0.0)
    return losses


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy with label smoothing that ignores padding.

    See the module docstring for the formula and for which positions count.

    Args:
        from_logits: bool, default True. Whether `y_pred` holds logits.
        label_smoothing: float in [0, 1], default 0. The paper's Transformer
            uses 0.1.
        ignore_class: optional int, default None. Targets equal to it (the pad
            id, or e.g. -100) are left out of the loss and of the mean.
        reduction: default "mean_with_sample_weight" (mean over the positions
            that count); any Keras reduction.
        name: default "masked_sparse_categorical_crossentropy".
        dtype: the loss's compute dtype; defaults to float32 (`floatx`).

    Call arguments:
        y_true: `[B, T]` integer targets (`[B, T, 1]` and `[B]` work too).
        y_pred: `[B, T, V]` logits or probabilities.
        sample_weight: optional `[B]` or `[B, T]` weights.

    Example:
    ```python
    loss = MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=0.1)
    model.compile(optimizer="adamw", loss=loss)
    ```
    """

    def __init__(
        self,
        from_logits=True,
        label_smoothing=0.0,
        ignore_class=None,
        reduction="mean_with_sample_weight",
        name="masked_sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = _check_bool("from_logits", from_logits)
        self.label_smoothing = check_unit_interval("label_smoothing", label_smoothing, closed=True)
        self.ignore_class = _check_ignore_class(ignore_class)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Fold ignored positions into the weights, so that the reduction
        # divides by the number (or weight) of positions that count.
        labels = _sparse_labels(y_true, ops.convert_to_tensor(y_pred))
        weights = _position_weights(labels, self.ignore_class, sample_weight)
        return super().__call__(labels, y_pred, sample_weight=weights)

    def call(self, y_true, y_pred):
        return smoothed_sparse_categorical_crossentropy(
            y_true,
            y_pred,
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
            ignore_class=self.ignore_class,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing,
                "ignore_class": self.ignore_class,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedAccuracy(keras.metrics.Metric):
    """Token accuracy (`argmax(y_pred) == y_true`) over the positions that count.

    Positions whose target is `ignore_class`, whose `sample_weight` is 0, or
    that a Keras mask on `y_pred` hides are left out. The result is
    `sum(weight * correct) / sum(weight)` over everything seen since the last
    reset, so batches of different lengths weigh by their real tokens (Keras's
    `MeanMetricWrapper` would average per-batch means instead).

    Args:
        ignore_class: optional int, default None. The pad id (or e.g. -100).
        name: default "masked_accuracy".
        dtype: the metric's dtype; defaults to float32.

    Example:
    ```python
    metric = MaskedAccuracy(ignore_class=0)
    metric.update_state([[3, 1, 0]], np.eye(4)[[[3, 2, 1]]])
    float(metric.result())     # 0.5: one of the two non-pad positions is right
    ```
    """

    def __init__(self, ignore_class=None, name="masked_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = _check_ignore_class(ignore_class)
        self.correct = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="correct"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="count"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        # Keras has no public accessor for a tensor's mask; its own metrics use this one.
        from keras.src.backend import get_keras_mask

        mask = get_keras_mask(y_pred)
        y_pred = ops.convert_to_tensor(y_pred)
        labels = _sparse_labels(y_true, y_pred)
        weights = _position_weights(labels, self.ignore_class, sample_weight)
        if weights is None:
            weights = ops.ones(ops.shape(labels), "float32")
        if mask is not None:
            weights = weights * ops.cast(ops.reshape(mask, ops.shape(labels)), "float32")
        predictions = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        correct = ops.cast(ops.equal(predictions, labels), "float32")
        self.correct.assign_add(ops.sum(correct * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.cast(ops.divide_no_nan(self.correct, self.count), self.dtype)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class}
