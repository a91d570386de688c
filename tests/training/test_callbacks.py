"""Tests for kzoo.training.callbacks.

The SIGKILL test resumes from a run that tests/training/backup_script.py
killed mid-epoch (started by conftest.py); the rest runs in-process with the
same small model and data (`backup_script.make_model`, `make_data`).
"""

import json
import os
import shutil
import signal
import types

import keras
import numpy as np
import pytest

from kzoo.training.callbacks import (
    AtomicBackupAndRestore,
    BestModelCheckpoint,
    read_backup_state,
    standard_callbacks,
)
from tests.training import backup_script as script

WEIGHT_ATOL = 1e-6


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def _assert_weights_close(actual, expected, atol=WEIGHT_ATOL):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=0, atol=atol)


def _non_chief():
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec({"worker": ["a:1", "b:1"]}), task_type="worker", task_id=1
    )
    return types.SimpleNamespace(cluster_resolver=resolver)


class _RecordSteps(keras.callbacks.Callback):
    """Weights after every step, and the optimizer step when each epoch begins."""

    def __init__(self):
        super().__init__()
        self.after_step, self.epoch_begin = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_begin.append((epoch, int(self.model.optimizer.iterations.numpy()), _weights(self.model)))

    def on_train_batch_end(self, batch, logs=None):
        self.after_step.append(_weights(self.model))


class _CrashAfter(keras.callbacks.Callback):
    def __init__(self, steps):
        super().__init__()
        self.steps, self.seen = steps, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.steps:
            raise RuntimeError("simulated crash")


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted run: weights after each of the 12 steps."""
    recorder = _RecordSteps()
    model = script.make_model()
    script.fit(model, [recorder])
    assert len(recorder.after_step) == script.EPOCHS * script.STEPS_PER_EPOCH
    return recorder.after_step


# --- standard_callbacks -------------------------------------------------------


def test_standard_callbacks_defaults(tmp_path):
    run_dir = tmp_path / "run"
    backup, tensorboard, best = standard_callbacks(run_dir)
    assert run_dir.is_dir()
    assert isinstance(backup, AtomicBackupAndRestore)
    assert backup.backup_dir == str(run_dir / "backup") and backup.save_freq == "epoch"
    assert isinstance(tensorboard, keras.callbacks.TensorBoard)
    assert tensorboard.log_dir == str(run_dir / "logs")
    assert isinstance(best, BestModelCheckpoint)
    assert (best.filepath, best.monitor, best.mode) == (str(run_dir / "best.keras"), "val_loss", "min")


def test_standard_callbacks_options(tmp_path):
    callbacks = standard_callbacks(tmp_path, monitor="val_masked_accuracy", patience=3, backup=False)
    assert [type(c) for c in callbacks] == [
        keras.callbacks.TensorBoard,
        BestModelCheckpoint,
        keras.callbacks.EarlyStopping,
    ]
    early = callbacks[-1]
    assert (early.monitor, early.patience, early.mode) == ("val_masked_accuracy", 3, "max")
    assert callbacks[1].mode == "max"
    backup = standard_callbacks(tmp_path, backup_freq=50)[0]
    assert backup.save_freq == 50
    assert standard_callbacks(tmp_path, monitor="val_score", mode="max")[2].mode == "max"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patience": 0}, r"argument `patience`, expected a positive integer\. Received: patience=0$"),
        ({"backup_freq": 0}, r"argument `backup_freq`, expected a positive integer\. Received: backup_freq=0$"),
        ({"backup_freq": "step"}, r"Received: backup_freq='step'$"),
        ({"backup": "yes"}, r"argument `backup`, expected True or False\. Received: backup='yes'$"),
        ({"mode": "up"}, r"argument `mode`, expected one of 'auto', 'min', 'max'\. Received: mode='up'$"),
        ({"monitor": "val_score"}, r"argument `mode`, expected 'min' or 'max' because the direction of "
         r"monitor='val_score' cannot be inferred\. Received: mode='auto'$"),
    ],
)
def test_standard_callbacks_rejects_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=rf"^Received an invalid value for .*{match}"):
        standard_callbacks(tmp_path / "run", **kwargs)


def test_non_chief_workers_write_to_temporary_folders(tmp_path):
    run_dir = tmp_path / "run"
    strategy = _non_chief()
    callbacks = standard_callbacks(run_dir, strategy=strategy)
    backup, tensorboard, best, cleanup = callbacks
    log_dir = tensorboard.log_dir
    assert not log_dir.startswith(str(run_dir)) and os.path.basename(log_dir) == "logs"
    model = script.make_model()
    for callback in (backup, best):
        callback.set_model(model)
    backup.on_train_begin()
    assert not backup._write_dir.startswith(str(run_dir))
    backup.on_epoch_end(0)
    best.on_train_begin()
    best.on_epoch_end(0, {"val_loss": 1.0})
    assert os.listdir(backup._write_dir) and not (run_dir / "backup").exists()
    assert sorted(os.listdir(run_dir)) == []  # Neither best.keras nor best.json.
    write_dir = backup._write_dir
    backup.on_train_end()
    cleanup.on_train_end()
    assert not os.path.exists(write_dir) and not os.path.exists(os.path.dirname(log_dir))


# --- BestModelCheckpoint -------------------------------------------------------


def _fit_with_validation(model, callbacks, epochs=3):
    x, y = script.make_data()
    return model.fit(
        x, y, validation_data=(x[:8], y[:8]), batch_size=4, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks
    )


def test_best_checkpoint_writes_a_loadable_best_model_and_no_temporary_file(tmp_path):
    path = tmp_path / "best.keras"
    history = _fit_with_validation(script.make_model(), [BestModelCheckpoint(path)])
    val_losses = history.history["val_loss"]
    state = json.loads((tmp_path / "best.json").read_text())
    assert state["epoch"] == int(np.argmin(val_losses))
    assert state["best"] == pytest.approx(min(val_losses), rel=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["best.json", "best.keras"]
    loaded = keras.saving.load_model(path)
    x, y = script.make_data()
    assert loaded.evaluate(x[:8], y[:8], verbose=0) == pytest.approx(min(val_losses), rel=1e-5)


def test_a_failed_write_keeps_the_previous_best_and_no_partial_file(tmp_path):
    path = tmp_path / "best.keras"
    model = script.make_model()
    checkpoint = BestModelCheckpoint(path)
    _fit_with_validation(model, [checkpoint], epochs=1)
    before = path.read_bytes()

    def crashing_save(filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half a zip file")
        raise OSError("disk full")

    model.save = crashing_save
    with pytest.raises(OSError, match="disk full"):
        checkpoint.on_epoch_end(1, {"val_loss": -1.0})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["best.json", "best.keras"]
    keras.saving.load_model(path)


def test_a_restarted_run_keeps_the_best_so_far_and_removes_stale_partials(tmp_path):
    path = tmp_path / "best.keras"
    model = script.make_model()
    checkpoint = BestModelCheckpoint(path)
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    checkpoint.on_epoch_end(0, {"val_loss": 0.5})
    # What a process killed while writing leaves behind.
    (tmp_path / ".best.keras.partial-999.keras").write_bytes(b"partial")
    (tmp_path / ".best.json.partial-x1y2").write_text("{")
    restarted = BestModelCheckpoint(path)
    restarted.set_model(model)
    restarted.on_train_begin()
    assert sorted(os.listdir(tmp_path)) == ["best.json", "best.keras"]
    assert (restarted.best, restarted.best_epoch) == (0.5, 0)
    restarted.on_epoch_end(3, {"val_loss": 0.7})  # Worse: the best model stays.
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == 0
    restarted.on_epoch_end(4, {"val_loss": 0.4})
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == 4


def test_best_checkpoint_fails_clearly_without_the_monitored_value(tmp_path):
    with pytest.raises(ValueError, match=r"`filepath`, expected a path ending in '\.keras'"):
        BestModelCheckpoint(tmp_path / "best.h5")
    checkpoint = BestModelCheckpoint(tmp_path / "best.keras")
    checkpoint.set_model(script.make_model())
    with pytest.raises(
        ValueError,
        match=r"argument `monitor`, expected one of the epoch logs \(loss\); pass validation data "
        r"to monitor a val_ metric\. Received: monitor='val_loss'$",
    ):
        checkpoint.on_epoch_end(0, {"loss": 1.0})


# --- AtomicBackupAndRestore ----------------------------------------------------


def test_backup_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"`save_freq`, expected 'epoch' or a positive integer\. Received: save_freq=0$"):
        AtomicBackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(ValueError, match=r"Received: save_freq=True$"):
        AtomicBackupAndRestore(tmp_path, save_freq=True)
    with pytest.raises(ValueError, match=r"`backup_dir`, expected a folder path\. Received: backup_dir=''$"):
        AtomicBackupAndRestore("")
    unbuilt = keras.Sequential([keras.layers.Dense(1)])
    unbuilt.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"must be built before fit\(\)"):
        unbuilt.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0, callbacks=[AtomicBackupAndRestore(tmp_path)])


def test_sigkill_mid_epoch_resumes_from_the_last_backup(killed_run, reference, tmp_path):
    assert killed_run.status == 128 + signal.SIGKILL, killed_run.log_tail  # A shell's status.
    backup_dir = tmp_path / "backup"
    shutil.copytree(os.path.join(killed_run.run_dir, "backup"), backup_dir)
    state = read_backup_state(backup_dir)
    # Backups after steps 2, 4 (end of epoch 0) and 6; killed after step 7.
    assert {k: state[k] for k in ("epoch", "step", "iterations")} == {"epoch": 1, "step": 2, "iterations": 6}
    assert sorted(os.listdir(backup_dir)) == sorted(["backup.json", state["weights"]])

    recorder = _RecordSteps()
    model = script.make_model(seed=99)  # Different initial weights: they must be restored.
    backup = AtomicBackupAndRestore(backup_dir, save_freq=script.SAVE_FREQ)
    history = script.fit(model, [backup, recorder])
    epoch, iterations, weights = recorder.epoch_begin[0]
    assert (epoch, iterations) == (1, 6)
    _assert_weights_close(weights, reference[6 - 1])
    # Keras starts fit at an epoch boundary: epoch 1 runs again from its first
    # step, so the resumed run does 8 more steps (see the module docstring).
    assert len(history.history["loss"]) == 2
    assert int(model.optimizer.iterations.numpy()) == 6 + 2 * script.STEPS_PER_EPOCH
    assert not backup_dir.exists()  # Deleted when training ended normally.


def test_resuming_from_an_epoch_end_backup_ends_with_the_uninterrupted_weights(reference, tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="simulated crash"):
        script.fit(script.make_model(), [AtomicBackupAndRestore(backup_dir), _CrashAfter(10)])
    state = read_backup_state(backup_dir)
    assert {k: state[k] for k in ("epoch", "step", "iterations")} == {"epoch": 2, "step": 0, "iterations": 8}
    model = script.make_model(seed=99)
    history = script.fit(model, [AtomicBackupAndRestore(backup_dir)])
    assert len(history.history["loss"]) == 1
    _assert_weights_close(_weights(model), reference[-1])
    # A later fit of the same model, with nothing to restore, starts at epoch 0.
    again = script.fit(model, [AtomicBackupAndRestore(tmp_path / "other")], epochs=2)
    assert len(again.history["loss"]) == 2


def test_read_backup_state_without_a_backup(tmp_path):
    assert read_backup_state(tmp_path) is None
    (tmp_path / "backup.json").write_text(json.dumps({"weights": "missing.weights.h5"}))
    assert read_backup_state(tmp_path) is None
