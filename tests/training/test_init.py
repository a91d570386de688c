"""Tests for kzoo/training/__init__.py: a light import, lazy exports, serializables."""

import subprocess
import sys

import keras
import numpy as np
import pytest

import kzoo.training as training


def test_importing_the_package_loads_neither_tensorflow_nor_keras():
    # A fresh interpreter: this one imported TensorFlow long ago.
    code = (
        "import sys, kzoo.training, kzoo.training.multi_worker\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_exports_resolve_lazily_to_the_module_objects():
    from kzoo.training import callbacks, losses, optimizers, precision, schedules, strategy

    modules = {
        "strategy": strategy,
        "precision": precision,
        "schedules": schedules,
        "losses": losses,
        "optimizers": optimizers,
        "callbacks": callbacks,
    }
    for name in training.__all__:
        if name == "custom_objects":
            continue
        owner = modules[training._MODULE_OF[name]]
        assert getattr(training, name) is getattr(owner, name), name
    assert set(training.__all__) <= set(dir(training))
    with pytest.raises(AttributeError, match=r"has no attribute 'make_model'"):
        training.make_model  # noqa: B018


def test_a_model_compiled_with_kzoo_objects_round_trips_through_keras_file(tmp_path):
    objects = training.custom_objects()
    assert sorted(objects) == [
        "kzoo>Adam",
        "kzoo>AdamW",
        "kzoo>LossScaleOptimizer",
        "kzoo>MaskedAccuracy",
        "kzoo>MaskedSparseCategoricalCrossentropy",
        "kzoo>SGD",
        "kzoo>TransformerSchedule",
        "kzoo>WarmupCosineDecay",
    ]
    for registered_name, cls in objects.items():
        assert keras.saving.get_registered_name(cls) == registered_name
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(13, 8), keras.layers.Dense(13)])
    model.compile(
        optimizer=training.make_optimizer("adamw", training.TransformerSchedule(8, warmup_steps=4), global_clipnorm=1.0),
        loss=training.MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=0.1),
        metrics=[training.MaskedAccuracy(ignore_class=0)],
        jit_compile=False,
    )
    rng = np.random.default_rng(0)
    x = rng.integers(1, 13, size=(8, 5))
    y = np.where(rng.random((8, 5)) < 0.3, 0, x)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, custom_objects=objects)
    assert type(loaded.optimizer) is training.optimizers.AdamW
    assert loaded.optimizer._learning_rate.get_config() == {"d_model": 8, "warmup_steps": 4, "scale": 1.0}
    assert loaded.loss.get_config()["label_smoothing"] == 0.1
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    actual = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert set(actual) == {"loss", "masked_accuracy"}
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-6), name
