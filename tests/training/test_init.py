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
        if name in ("custom_objects", "load_model"):  # Functions of the package itself.
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


def test_load_model_restores_a_compiled_kzoo_model_and_a_fresh_process_loads_with_kzoo_alone(tmp_path):
    import kzoo

    keras.utils.set_random_seed(0)
    model = kzoo.create("classifier_tiny", vocabulary_size=30, max_sequence_length=8)
    model.compile(optimizer=training.make_optimizer("adamw", 1e-3), loss=training.MaskedSparseCategoricalCrossentropy())
    inputs = {"token_ids": np.ones((2, 8), "int32"), "segment_ids": np.zeros((2, 8), "int32"),
              "padding_mask": np.ones((2, 8), "int32")}
    model.save(tmp_path / "model.keras")
    loaded = training.load_model(tmp_path / "model.keras", compile=True)
    assert type(loaded.optimizer) is training.optimizers.AdamW
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    # What a new user types: `import kzoo`, then load a run's model (the classes register on first use).
    code = f"import kzoo; print(type(kzoo.load_model({str(tmp_path / 'model.keras')!r})).__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "TextClassifier"


def test_importing_kzoo_models_registers_the_classes_for_plain_keras(tmp_path):
    import kzoo

    kzoo.create("causal_lm_tiny", vocabulary_size=30).save(tmp_path / "lm.keras")
    code = f"import keras, kzoo.models; print(type(keras.saving.load_model({str(tmp_path / 'lm.keras')!r})).__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "CausalLM"
