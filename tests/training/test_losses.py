"""Tests for kzoo.training.losses, against a numpy reference."""

import keras
import numpy as np
import pytest
from keras.src.backend import set_keras_mask  # Only to give a tensor a Keras mask here.

from kzoo.training.losses import (
    MaskedAccuracy,
    MaskedSparseCategoricalCrossentropy,
    smoothed_sparse_categorical_crossentropy,
)

VOCAB = 11
PAD = 0


def _batch(seed=0, batch=3, length=6, pad_from=(6, 4, 2)):
    rng = np.random.default_rng(seed)
    logits = (3.0 * rng.normal(size=(batch, length, VOCAB))).astype("float32")
    targets = rng.integers(1, VOCAB, size=(batch, length))
    for row, start in enumerate(pad_from):
        targets[row, start:] = PAD
    return targets, logits


def _reference(targets, logits, smoothing=0.0, ignore=None, sample_weight=None):
    """Cross-entropy against the smoothed distribution, mean over kept positions."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    valid = np.ones(targets.shape) if ignore is None else (targets != ignore).astype("float64")
    one_hot = np.eye(VOCAB)[np.where(valid > 0, targets, 0)]
    smoothed = (1.0 - smoothing) * one_hot + smoothing / VOCAB
    per_position = -(smoothed * log_probs).sum(axis=-1)
    weights = valid
    if sample_weight is not None:
        weights = weights * np.broadcast_to(
            np.reshape(sample_weight, sample_weight.shape + (1,) * (targets.ndim - sample_weight.ndim)),
            targets.shape,
        )
    return (per_position * weights).sum() / weights.sum()


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("ignore", [None, PAD])
@pytest.mark.parametrize("weights", [None, "per_position", "per_sequence"])
def test_matches_the_numpy_reference(smoothing, ignore, weights):
    targets, logits = _batch()
    rng = np.random.default_rng(1)
    sample_weight = {
        None: None,
        "per_position": rng.uniform(0.5, 2.0, size=targets.shape).astype("float32"),
        "per_sequence": np.array([1.0, 0.5, 2.0], "float32"),
    }[weights]
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=smoothing, ignore_class=ignore)
    value = float(loss(targets, logits, sample_weight=sample_weight))
    expected = _reference(targets, logits, smoothing, ignore, sample_weight)
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_padding_sample_weights_are_excluded_from_the_mean():
    """Weight-0 padding (kzoo's tagging pipelines) counts like ignore_class."""
    targets, logits = _batch()
    padding_weights = (targets != PAD).astype("float32")
    by_weight = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)(targets, logits, padding_weights)
    by_id = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1, ignore_class=PAD)(targets, logits)
    np.testing.assert_allclose(float(by_weight), float(by_id), rtol=1e-6)


def test_agrees_with_keras_where_keras_applies():
    targets, logits = _batch()
    ours = MaskedSparseCategoricalCrossentropy(ignore_class=PAD)(targets, logits)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD)(targets, logits)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-6)
    smoothed = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)(targets, logits)
    one_hot = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.eye(VOCAB)[targets], logits
    )
    np.testing.assert_allclose(float(smoothed), float(one_hot), rtol=1e-6)


def test_probabilities_out_of_range_ignore_ids_and_trailing_axis():
    targets, logits = _batch()
    expected = _reference(targets, logits, 0.1, PAD)
    probabilities = keras.ops.softmax(logits, axis=-1)
    from_probs = MaskedSparseCategoricalCrossentropy(from_logits=False, label_smoothing=0.1, ignore_class=PAD)
    np.testing.assert_allclose(float(from_probs(targets, probabilities)), expected, rtol=1e-4)
    minus_100 = np.where(targets == PAD, -100, targets)
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1, ignore_class=-100)
    np.testing.assert_allclose(float(loss(minus_100, logits)), expected, rtol=1e-5)
    np.testing.assert_allclose(float(loss(minus_100[..., None], logits)), expected, rtol=1e-5)


def test_ignored_positions_get_no_loss_and_no_gradient():
    import tensorflow as tf

    targets, logits = _batch()
    per_position = smoothed_sparse_categorical_crossentropy(targets, logits, label_smoothing=0.1, ignore_class=PAD)
    assert per_position.shape == targets.shape
    assert np.all(per_position.numpy()[targets == PAD] == 0.0)
    assert np.all(per_position.numpy()[targets != PAD] > 0.0)
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1, ignore_class=PAD)
    variable = tf.Variable(logits)
    with tf.GradientTape() as tape:
        value = loss(targets, variable)
    gradient = tape.gradient(value, variable).numpy()
    assert np.all(gradient[targets == PAD] == 0.0)
    assert np.abs(gradient[targets != PAD]).sum() > 0
    # Whatever the logits at padded positions, the loss is the same.
    noisy = logits + 100.0 * (targets == PAD)[..., None]
    assert float(loss(targets, noisy)) == pytest.approx(float(value), rel=1e-6)
    # A batch of padding only: 0, not NaN.
    assert float(loss(np.zeros_like(targets), logits)) == 0.0


def test_keras_mask_on_predictions_drops_positions():
    import tensorflow as tf

    targets, logits = _batch()
    masked_logits = tf.identity(logits)
    set_keras_mask(masked_logits, tf.constant(targets != PAD))
    value = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)(targets, masked_logits)
    np.testing.assert_allclose(float(value), _reference(targets, logits, 0.1, PAD), rtol=1e-5)


def test_low_precision_logits_give_a_float32_loss():
    targets, logits = _batch()
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1, ignore_class=PAD)
    for dtype in ("bfloat16", "float16"):
        value = loss(targets, keras.ops.cast(logits, dtype))
        assert value.dtype == "float32"
        np.testing.assert_allclose(float(value), _reference(targets, logits, 0.1, PAD), rtol=2e-2)


def test_loss_config_round_trip():
    loss = MaskedSparseCategoricalCrossentropy(
        from_logits=False, label_smoothing=0.2, ignore_class=-100, reduction="sum", name="xent"
    )
    config = loss.get_config()
    assert config == {
        "name": "xent",
        "reduction": "sum",
        "from_logits": False,
        "label_smoothing": 0.2,
        "ignore_class": -100,
    }
    assert MaskedSparseCategoricalCrossentropy.from_config(config).get_config() == config
    serialized = keras.losses.serialize(loss)
    assert serialized["registered_name"] == "kzoo>MaskedSparseCategoricalCrossentropy"
    assert keras.losses.deserialize(serialized).get_config() == config


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"label_smoothing": 1.5}, r"`label_smoothing`, expected a number in \[0, 1\]\. Received: label_smoothing=1\.5"),
        ({"label_smoothing": -0.1}, r"Received: label_smoothing=-0\.1"),
        ({"ignore_class": "pad"}, r"`ignore_class`, expected None or an integer\. Received: ignore_class='pad'"),
        ({"from_logits": "yes"}, r"`from_logits`, expected True or False\. Received: from_logits='yes'"),
    ],
)
def test_loss_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=rf"^Received an invalid value for argument .*{match}$"):
        MaskedSparseCategoricalCrossentropy(**kwargs)


def _accuracy_reference(batches, ignore=PAD):
    correct = count = 0.0
    for targets, logits, weights in batches:
        keep = (targets != ignore) * (1.0 if weights is None else weights)
        correct += ((logits.argmax(-1) == targets) * keep).sum()
        count += keep.sum()
    return correct / count


def test_masked_accuracy_weighs_batches_by_their_real_tokens():
    short = _batch(seed=2, length=3, pad_from=(3, 1, 2))
    long = _batch(seed=3, length=9, pad_from=(9, 9, 5))
    # Make every other prediction right.
    for targets, logits in (short, long):
        rows, cols = np.indices(targets.shape)
        logits[rows, cols, targets] += 50.0 * ((rows + cols) % 2)
    metric = MaskedAccuracy(ignore_class=PAD)
    for targets, logits in (short, long):
        metric.update_state(targets, logits)
    expected = _accuracy_reference([(*short, None), (*long, None)])
    assert 0.2 < expected < 0.9
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_masked_accuracy_with_sample_weights_and_keras_masks():
    import tensorflow as tf

    targets, logits = _batch(seed=4)
    weights = np.array([1.0, 0.0, 2.0], "float32")
    metric = MaskedAccuracy(ignore_class=PAD)
    metric.update_state(targets, logits, sample_weight=weights)
    expected = _accuracy_reference([(targets, logits, weights[:, None])])
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)
    masked_logits = tf.identity(logits)
    set_keras_mask(masked_logits, tf.constant(targets != PAD))
    by_mask = MaskedAccuracy()
    by_mask.update_state(targets, masked_logits)
    np.testing.assert_allclose(float(by_mask.result()), _accuracy_reference([(targets, logits, None)]), rtol=1e-6)


def test_masked_accuracy_config_round_trip():
    metric = MaskedAccuracy(ignore_class=-100, name="token_accuracy")
    config = metric.get_config()
    assert config == {"name": "token_accuracy", "dtype": "float32", "ignore_class": -100}
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(restored) is MaskedAccuracy and restored.get_config() == config
    with pytest.raises(ValueError, match=r"Received: ignore_class=1\.5$"):
        MaskedAccuracy(ignore_class=1.5)
