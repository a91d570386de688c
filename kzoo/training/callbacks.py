"""The callbacks every kzoo run uses: TensorBoard, best checkpoint, backups, early stopping.

`standard_callbacks(run_dir)` returns, in this order:

- `AtomicBackupAndRestore(run_dir/backup)` (with `backup=True`): backs up
  weights and optimizer state every `backup_freq` steps and at every epoch
  end; a run started again after a crash (SIGKILL included) restores the
  last backup and continues from its epoch.
- `keras.callbacks.TensorBoard(run_dir/logs)`.
- `BestModelCheckpoint(run_dir/best.keras)`: the whole model whenever
  `monitor` improves, written atomically.
- `keras.callbacks.EarlyStopping(monitor, patience)` when `patience` is set.

Why not Keras's `ModelCheckpoint` and `BackupAndRestore`
----------------------------------------------------------------
Both write their files in place (Keras 3.15): a process killed while
writing leaves a truncated `best.keras`, or a truncated backup that makes
the next start fail (Keras's `BackupAndRestore` then raises unless
`double_checkpoint=True`). Its backup is also two files written one after
the other (weights, then a JSON with the epoch), so a kill between them
pairs new weights with an old epoch. And `ModelCheckpoint` forgets its best
value when a run resumes, so the first epoch after a restart overwrites the
best model even when it is worse. The two callbacks here write every file
to a temporary name in the same folder and `os.replace` it into place (an
atomic rename on POSIX), so a final name always holds a complete file; the
backup's `backup.json` is written last and names the weights file it goes
with; and the best value is kept in `best.json` beside `best.keras`.

Mid-epoch backups and resumption
--------------------------------
Keras's `fit` can only start at an epoch boundary. Restoring a backup taken
at step `s` of epoch `e` sets the weights and optimizer state of that step
and starts `fit` at epoch `e`, which runs epoch `e` from its first batch
again: nothing from before the backup is lost, but the first `s` steps of
that epoch are trained twice (Keras's `BackupAndRestore` behaves the same).
A resumed run ends with exactly the weights of an uninterrupted one
(tests/training/test_callbacks.py: within 1e-6) when it resumes from an
epoch-end backup and `fit` gets the same batches in each epoch as the
uninterrupted run. So for exact resumption make every backup an epoch-end
one (`backup_freq="epoch"`, with `steps_per_epoch` as the backup interval
when epochs are long), and feed the same data: a pipeline that starts over
every epoch (finite, shuffled with a per-epoch seed) does so by itself; an
endless one (`repeat()` with `steps_per_epoch`) must skip the batches
already used, `read_backup_state(backup_dir)["epoch"] * steps_per_epoch`,
which can be read before calling `fit`.

Multi-worker
------------
Every worker must run the same callbacks (writing a model can read variables
that are collectives). The chief writes into `run_dir`; the other workers
write to private temporary folders (`kzoo.training.multi_worker.
worker_filepath`) that are removed at the end of training. All workers
restore from the chief's `run_dir/backup`, so with several hosts `run_dir`
must be on a shared file system.

Example:
```python
from kzoo.training.callbacks import standard_callbacks

callbacks = standard_callbacks("runs/demo", monitor="val_loss", patience=3, backup_freq=200)
model.fit(train, validation_data=valid, epochs=20, callbacks=callbacks)
```
"""

import glob
import json
import logging
import math
import os
import shutil
import tempfile

import keras
import numpy as np

from kzoo.training import multi_worker
from kzoo.runtime.validation import check_choice, check_positive_int

MODES = ("auto", "min", "max")
_MAX_HINTS = ("acc", "auc", "f1", "bleu", "rouge", "precision", "recall", "exact_match")
_MIN_HINTS = ("loss", "error", "perplexity")
BACKUP_STATE_FILE = "backup.json"

_logger = logging.getLogger(__name__)


def _resolve_mode(monitor, mode):
    check_choice("mode", mode, MODES)
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_").lower()
    if any(hint in name for hint in _MIN_HINTS):
        return "min"
    if any(hint in name for hint in _MAX_HINTS):
        return "max"
    raise ValueError(
        "Received an invalid value for argument `mode`, expected 'min' or 'max' "
        f"because the direction of monitor={monitor!r} cannot be inferred. "
        "Received: mode='auto'"
    )


def _write_json_atomically(path, payload):
    folder, name = os.path.split(path)
    fd, partial = tempfile.mkstemp(prefix=f".{name}.partial-", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _strategy_of(callback_strategy, model):
    if callback_strategy is not None:
        return callback_strategy
    return model.distribute_strategy if model is not None else None


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves the whole model to `filepath` whenever `monitor` improves, atomically.

    The model is written to a temporary name in the same folder and renamed
    into place (`multi_worker.save_model`), so `filepath` is either absent or
    a complete `.keras` file, whatever happens during the write. The best
    value is kept in `<filepath without .keras>.json` (written after the
    model), and a run that starts with that file present (e.g. a resumed run)
    only replaces the model with a better one. Leftover temporary files of an
    interrupted write are removed when training begins.

    Args:
        filepath: str, a `.keras` path.
        monitor: str, default "val_loss". A key of the epoch logs.
        mode: "auto" (default), "min" or "max". "auto" infers the direction
            from the name (losses, errors and perplexity go down; accuracy,
            AUC, F1, BLEU, ROUGE, precision, recall, exact match go up).
        strategy: optional `tf.distribute.Strategy`; defaults to the model's.
            Non-chief workers write to a temporary folder (see the module
            docstring).

    Raises (at the end of an epoch):
        ValueError: if `monitor` is not in the epoch logs.

    Example:
    ```python
    model.fit(x, y, validation_split=0.2, epochs=5,
              callbacks=[BestModelCheckpoint("runs/demo/best.keras")])
    ```
    """

    def __init__(self, filepath, monitor="val_loss", mode="auto", strategy=None):
        super().__init__()
        filepath = os.fspath(filepath)
        if not filepath.endswith(".keras"):
            raise ValueError(
                "Received an invalid value for argument `filepath`, expected a path "
                f"ending in '.keras'. Received: filepath={filepath!r}"
            )
        self.filepath = filepath
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.strategy = strategy
        self.best = None
        self.best_epoch = None

    @property
    def state_path(self):
        """The JSON file that records the best value and its epoch."""
        return self.filepath[: -len(".keras")] + ".json"

    def _is_improvement(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_train_begin(self, logs=None):
        folder, name = os.path.split(os.path.abspath(self.filepath))
        if multi_worker.is_chief(_strategy_of(self.strategy, self.model)):
            # Partial files a killed process left (multi_worker.save_model's names).
            state_name = os.path.basename(self.state_path)
            for pattern in (f".{name}.partial-*", f".{state_name}.partial-*"):
                for stale in glob.glob(os.path.join(folder, pattern)):
                    os.remove(stale)
        state = _read_json(self.state_path)
        self.best = self.best_epoch = None
        if state and state.get("monitor") == self.monitor and os.path.exists(self.filepath):
            self.best, self.best_epoch = state["best"], state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"Received an invalid value for argument `monitor`, expected one of "
                f"the epoch logs ({', '.join(sorted(logs))}); pass validation data "
                f"to monitor a val_ metric. Received: monitor={self.monitor!r}"
            )
        value = float(logs[self.monitor])
        if math.isnan(value) or not self._is_improvement(value):
            return
        strategy = _strategy_of(self.strategy, self.model)
        saved = multi_worker.save_model(self.model, self.filepath, strategy)
        self.best, self.best_epoch = value, epoch
        if saved is not None:  # The chief.
            _write_json_atomically(
                self.state_path,
                {"monitor": self.monitor, "mode": self.mode, "best": value, "epoch": epoch},
            )


def read_backup_state(backup_dir):
    """What the last backup in `backup_dir` holds, or None if there is none.

    Args:
        backup_dir: str, the folder of an `AtomicBackupAndRestore`.

    Returns:
        None, or a dict with "epoch" (the epoch a resumed `fit` starts at),
        "step" (steps of that epoch already done when the backup was taken; 0
        at an epoch boundary), "iterations" (the optimizer step) and
        "weights" (the weights file name inside `backup_dir`).
    """
    state = _read_json(os.path.join(backup_dir, BACKUP_STATE_FILE))
    if state is None or not os.path.exists(os.path.join(backup_dir, state["weights"])):
        return None
    return state


def _random_streams(model):
    """The dropout seed states: in `model.variables`, but not saved by `save_weights`.

    Without them a resumed run would draw the dropout masks of a fresh run, and
    so end with other weights than an uninterrupted one.
    """
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]


def _restore_random_streams(model, values):
    streams = _random_streams(model)
    if values is None or len(values) != len(streams):
        _logger.warning("The backup holds no dropout seed states for this model; dropout masks restart.")
        return
    for variable, value in zip(streams, values):
        variable.assign(np.asarray(value, dtype=variable.dtype))


class AtomicBackupAndRestore(keras.callbacks.Callback):
    """Backs up weights and optimizer state atomically; restores them when training starts.

    A crash-safe counterpart of `keras.callbacks.BackupAndRestore` (see the
    module docstring for what differs and how mid-epoch backups resume).
    Each backup is `backup-<n>.weights.h5` (model and optimizer variables,
    written to a temporary name and renamed), then `backup.json` naming it and
    holding the dropout seed states (also renamed into place), then the older
    backups are deleted. At the start of `fit` the backup `backup.json` names
    is loaded and `fit` starts at its epoch. The folder is deleted when training ends normally (unless
    `delete_checkpoint=False`), so a finished run never resumes by mistake.

    Args:
        backup_dir: str, a folder used only by this callback.
        save_freq: "epoch" (default) or a positive int: back up every that
            many training steps, and at the end of every epoch.
        delete_checkpoint: bool, default True. Delete `backup_dir` when
            training ends without an error.
        strategy: optional `tf.distribute.Strategy`; defaults to the model's.

    Example:
    ```python
    backup = AtomicBackupAndRestore("runs/demo/backup", save_freq=100)
    model.fit(dataset, epochs=10, callbacks=[backup])   # same call after a crash
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, strategy=None):
        super().__init__()
        if not backup_dir:
            raise ValueError(
                "Received an invalid value for argument `backup_dir`, expected a "
                f"folder path. Received: backup_dir={backup_dir!r}"
            )
        if save_freq != "epoch":
            if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq <= 0:
                raise ValueError(
                    "Received an invalid value for argument `save_freq`, expected "
                    f"'epoch' or a positive integer. Received: save_freq={save_freq!r}"
                )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.strategy = strategy
        self.restored_state = None
        self._write_dir = None
        self._index = 0
        self._epoch = 0
        self._step = 0
        self._steps_since_save = 0
        self._last_batch = -1

    def _is_chief(self):
        return multi_worker.is_chief(_strategy_of(self.strategy, self.model))

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                f"Model {self.model.name} must be built before fit() to restore "
                "backups into it: call it once on a batch first."
            )
        self.restored_state = state = read_backup_state(self.backup_dir)
        if self._is_chief():
            self._write_dir = self.backup_dir
        else:
            self._write_dir = os.path.dirname(
                multi_worker.worker_filepath(
                    os.path.join(self.backup_dir, BACKUP_STATE_FILE),
                    _strategy_of(self.strategy, self.model),
                )
            )
        self._steps_since_save = 0
        self._last_batch = -1
        if state is None:
            self._index, self._epoch, self._step = 0, 0, 0
            self.model._initial_epoch = None  # Keras's hook; clear a stale value.
            return
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(self.backup_dir, state["weights"]))
        _restore_random_streams(self.model, state.get("random_streams"))
        self._index, self._epoch, self._step = state["index"], state["epoch"], 0
        # The hook Keras's own BackupAndRestore uses: fit() reads it right
        # after on_train_begin and starts at this epoch.
        self.model._initial_epoch = state["epoch"]
        if state["step"]:
            _logger.info(
                "Restored a backup from step %d of epoch %d; Keras runs epoch %d "
                "from its first step again.",
                state["step"],
                state["epoch"],
                state["epoch"],
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._step, self._last_batch = epoch, 0, -1

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the index of the last step run (steps_per_execution may
        # run several per call).
        done = batch - self._last_batch
        self._last_batch = batch
        self._step += done
        if self.save_freq == "epoch":
            return
        self._steps_since_save += done
        steps_per_epoch = (self.params or {}).get("steps")
        if steps_per_epoch and self._step >= steps_per_epoch:
            return  # The epoch's last step: on_epoch_end backs up next.
        if self._steps_since_save >= self.save_freq:
            self._save(epoch=self._epoch, step=self._step)

    def on_epoch_end(self, epoch, logs=None):
        self._save(epoch=epoch + 1, step=0)

    def _save(self, epoch, step):
        self._steps_since_save = 0
        self._index += 1
        folder = self._write_dir
        os.makedirs(folder, exist_ok=True)
        name = f"backup-{self._index}.weights.h5"
        partial = os.path.join(folder, f".partial-{os.getpid()}-{name}")
        try:
            self.model.save_weights(partial, overwrite=True)
            with open(partial, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(partial, os.path.join(folder, name))
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        optimizer = self.model.optimizer
        iterations = int(optimizer.iterations.numpy()) if optimizer is not None else None
        state = {
            "epoch": epoch,
            "step": step,
            "iterations": iterations,
            "weights": name,
            "index": self._index,
            "random_streams": [v.numpy().tolist() for v in _random_streams(self.model)],
        }
        _write_json_atomically(os.path.join(folder, BACKUP_STATE_FILE), state)
        # Older backups, and partial files a killed process left behind.
        for entry in os.listdir(folder):
            if entry not in (name, BACKUP_STATE_FILE) and (
                entry.endswith(".weights.h5") or ".partial-" in entry
            ):
                os.remove(os.path.join(folder, entry))

    def on_train_end(self, logs=None):
        if self._write_dir and self._write_dir != self.backup_dir:
            shutil.rmtree(self._write_dir, ignore_errors=True)  # A non-chief's temporary folder.
        elif self.delete_checkpoint:
            shutil.rmtree(self.backup_dir, ignore_errors=True)
        self._write_dir = None


class _RemoveFoldersOnTrainEnd(keras.callbacks.Callback):
    """Deletes a non-chief worker's temporary folders when training ends."""

    def __init__(self, folders):
        super().__init__()
        self.folders = list(folders)

    def on_train_end(self, logs=None):
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


def standard_callbacks(
    run_dir,
    monitor="val_loss",
    patience=None,
    backup=True,
    backup_freq="epoch",
    mode="auto",
    strategy=None,
):
    """The callbacks of a kzoo run, writing into `run_dir`.

    Args:
        run_dir: str, the run folder (created if missing).
        monitor: str, default "val_loss". What the best checkpoint and early
            stopping watch.
        patience: optional positive int. Adds `EarlyStopping(monitor,
            patience)` (the best model is in `best.keras` either way).
        backup: bool, default True. Adds `AtomicBackupAndRestore(run_dir/backup)`.
        backup_freq: "epoch" (default) or a positive int: back up every that
            many steps (and at every epoch end).
        mode: "auto" (default), "min" or "max" for `monitor`.
        strategy: optional `tf.distribute.Strategy`; defaults to the current
            one (so call this inside `strategy.scope()` or pass it). On
            non-chief workers TensorBoard logs go to a temporary folder,
            removed when training ends.

    Returns:
        A list of callbacks: [backup,] TensorBoard, best checkpoint[, early stopping].

    Raises:
        ValueError: for a bad `patience`, `backup_freq` or `mode`.
    """
    if patience is not None:
        check_positive_int("patience", patience)
    if not isinstance(backup, bool):
        raise ValueError(
            "Received an invalid value for argument `backup`, expected True or "
            f"False. Received: backup={backup!r}"
        )
    if backup_freq != "epoch":
        check_positive_int("backup_freq", backup_freq)
    mode = _resolve_mode(monitor, mode)
    run_dir = os.fspath(run_dir)
    os.makedirs(run_dir, exist_ok=True)

    callbacks = []
    if backup:
        callbacks.append(
            AtomicBackupAndRestore(
                os.path.join(run_dir, "backup"), save_freq=backup_freq, strategy=strategy
            )
        )
    log_dir = multi_worker.worker_filepath(os.path.join(run_dir, "logs"), strategy)
    callbacks.append(keras.callbacks.TensorBoard(log_dir=log_dir))
    callbacks.append(
        BestModelCheckpoint(
            os.path.join(run_dir, "best.keras"), monitor=monitor, mode=mode, strategy=strategy
        )
    )
    if patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, mode=mode))
    if not multi_worker.is_chief(strategy):
        callbacks.append(_RemoveFoldersOnTrainEnd([os.path.dirname(log_dir)]))
    return callbacks
