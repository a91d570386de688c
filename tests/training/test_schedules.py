"""Tests for kzoo.training.schedules, against the formulas written out in numpy."""

import math

import keras
import numpy as np
import pytest

from kzoo.training.schedules import TransformerSchedule, WarmupCosineDecay

STEPS = [0, 1, 2, 99, 3998, 3999, 4000, 4001, 10_000, 100_000]


def _transformer_reference(iteration, d_model, warmup_steps, scale):
    step_num = iteration + 1  # The paper counts from 1.
    return scale * d_model**-0.5 * min(step_num**-0.5, step_num * warmup_steps**-1.5)


def _cosine_reference(iteration, peak, warmup_steps, decay_steps, alpha):
    if iteration < warmup_steps:
        return peak * iteration / warmup_steps
    t = min(iteration - warmup_steps, decay_steps) / decay_steps
    return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t)) + alpha)


def _values(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


@pytest.mark.parametrize("d_model, warmup_steps, scale", [(512, 4000, 1.0), (128, 100, 2.0)])
def test_transformer_schedule_follows_the_formula(d_model, warmup_steps, scale):
    schedule = TransformerSchedule(d_model, warmup_steps=warmup_steps, scale=scale)
    expected = [_transformer_reference(s, d_model, warmup_steps, scale) for s in STEPS]
    np.testing.assert_allclose(_values(schedule, STEPS), expected, rtol=1e-6)
    # Also with the optimizer's int64 step counter.
    np.testing.assert_allclose(float(schedule(keras.ops.convert_to_tensor(7, "int64"))), expected[0] * 8, rtol=1e-6)


def test_transformer_schedule_peaks_at_the_end_of_warmup():
    schedule = TransformerSchedule(512, warmup_steps=4000)
    values = _values(schedule, range(0, 8000, 50))
    peak_iteration = 3999  # step_num = warmup_steps
    assert float(schedule(peak_iteration)) == pytest.approx((512 * 4000) ** -0.5, rel=1e-6)
    assert values.max() <= float(schedule(peak_iteration)) * (1 + 1e-6)
    assert np.all(np.diff(values[:80]) > 0) and np.all(np.diff(values[81:]) < 0)
    assert float(schedule(0)) > 0  # No update is wasted with a zero rate.


@pytest.mark.parametrize(
    "peak, warmup_steps, decay_steps, alpha",
    [(1e-3, 10, 90, 0.0), (5e-4, 100, 1000, 0.1), (2e-3, 0, 50, 0.5)],
)
def test_warmup_cosine_follows_the_formula(peak, warmup_steps, decay_steps, alpha):
    schedule = WarmupCosineDecay(peak, warmup_steps=warmup_steps, decay_steps=decay_steps, alpha=alpha)
    steps = sorted({0, 1, warmup_steps // 2, warmup_steps, warmup_steps + 1,
                    warmup_steps + decay_steps // 2, warmup_steps + decay_steps, 10 * (warmup_steps + decay_steps)})
    expected = [_cosine_reference(s, peak, warmup_steps, decay_steps, alpha) for s in steps]
    np.testing.assert_allclose(_values(schedule, steps), expected, rtol=1e-5, atol=1e-12)
    assert float(schedule(warmup_steps)) == pytest.approx(peak, rel=1e-6)
    assert float(schedule(10**6)) == pytest.approx(alpha * peak, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize(
    "schedule",
    [TransformerSchedule(256, warmup_steps=1000, scale=0.5), WarmupCosineDecay(3e-4, 20, 180, alpha=0.05)],
    ids=["transformer", "warmup_cosine"],
)
def test_config_round_trip(schedule):
    config = schedule.get_config()
    restored = type(schedule).from_config(config)
    assert restored.get_config() == config
    serialized = keras.optimizers.schedules.serialize(schedule)
    assert serialized["registered_name"] == f"kzoo>{type(schedule).__name__}"
    again = keras.optimizers.schedules.deserialize(serialized)
    assert type(again) is type(schedule) and again.get_config() == config
    np.testing.assert_allclose(_values(again, STEPS), _values(schedule, STEPS), rtol=1e-7)
    # Through an optimizer's config, as in a .keras file.
    optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(keras.optimizers.Adam(schedule)))
    assert optimizer.learning_rate is not None
    assert optimizer._learning_rate.get_config() == config


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"d_model": 0}, r"argument `d_model`, expected a positive integer\. Received: d_model=0"),
        ({"d_model": 512.0}, r"argument `d_model`, expected a positive integer\. Received: d_model=512\.0"),
        ({"d_model": 512, "warmup_steps": 0}, r"argument `warmup_steps`, expected a positive integer\. Received: warmup_steps=0"),
        ({"d_model": 512, "warmup_steps": -10}, r"Received: warmup_steps=-10"),
        ({"d_model": 512, "scale": 0}, r"argument `scale`, expected a positive number\. Received: scale=0"),
        ({"d_model": 512, "scale": float("nan")}, r"Received: scale=nan"),
    ],
)
def test_transformer_schedule_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=rf"^Received an invalid value for .*{match}"):
        TransformerSchedule(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"peak_learning_rate": 0.0}, r"`peak_learning_rate`, expected a positive number\. Received: peak_learning_rate=0\.0"),
        ({"warmup_steps": -1}, r"`warmup_steps`, expected a non-negative integer\. Received: warmup_steps=-1"),
        ({"warmup_steps": 2.5}, r"Received: warmup_steps=2\.5"),
        ({"decay_steps": 0}, r"`decay_steps`, expected a positive integer\. Received: decay_steps=0"),
        ({"alpha": 1.5}, r"`alpha`, expected a number in \[0, 1\]\. Received: alpha=1\.5"),
        ({"alpha": -0.1}, r"Received: alpha=-0\.1"),
    ],
)
def test_warmup_cosine_rejects_bad_arguments(kwargs, match):
    arguments = {"peak_learning_rate": 1e-3, "warmup_steps": 10, "decay_steps": 100, **kwargs}
    with pytest.raises(ValueError, match=rf"^Received an invalid value for argument .*{match}$"):
        WarmupCosineDecay(**arguments)
