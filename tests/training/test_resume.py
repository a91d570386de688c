"""SIGKILL a `kzoo train` run mid-epoch, run the same command again, get the uninterrupted weights."""

import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from kzoo.training.callbacks import read_backup_state

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
STEPS_PER_EPOCH = 6
KILL_AFTER_STEP = STEPS_PER_EPOCH + 3  # Epoch 2, step 3: after the epoch-1 backup.
TOLERANCE = 1e-6  # The resumed run recomputes the same float32 steps on the same batches.
CONFIG = {
    "preset": "classifier_tiny",  # Dropout in every block: the resumed run must also see the same masks.
    "task": "language_id",
    "epochs": 3,
    "steps_per_epoch": STEPS_PER_EPOCH,
    "batch_size": 16,
    "max_examples": 480,  # 30 batches: the endless stream reshuffles after 5 epochs' worth.
    "vocabulary_size": 300,
    "warmup_steps": 4,
    "seed": 7,
}


def _kzoo_train(config_path, run_dir, kill_after_step=None):
    prefix = [sys.executable, os.path.join(HERE, "train_and_kill.py"), str(kill_after_step)] if kill_after_step else [
        sys.executable, "-m", "kzoo.commands", "train"
    ]
    environment = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return subprocess.run(
        [*prefix, "--config", str(config_path), "--run-dir", str(run_dir)],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )


def _weights(run_dir):
    import keras

    import kzoo.models  # noqa: F401 (registers the classes model.keras names)

    return keras.saving.load_model(os.path.join(run_dir, "model.keras"), compile=False).get_weights()


@pytest.mark.slow
def test_sigkill_mid_epoch_then_the_same_command_ends_with_the_uninterrupted_weights(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    killed, reference = tmp_path / "killed", tmp_path / "reference"

    crash = _kzoo_train(config, killed, kill_after_step=KILL_AFTER_STEP)
    assert crash.returncode == -9, crash.stderr[-2000:]
    assert not (killed / "model.keras").exists()  # Never claims a model it does not hold.
    assert read_backup_state(str(killed / "backup"))["epoch"] == 1
    assert not [p for p in killed.rglob("*") if ".tmp" in p.name or p.name.startswith("tmp")]

    resumed = _kzoo_train(config, killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming" in resumed.stdout and "epoch 2" in resumed.stdout
    finished = _kzoo_train(config, reference)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "Resuming" not in finished.stdout

    resumed_weights, reference_weights = _weights(killed), _weights(reference)
    assert len(resumed_weights) == len(reference_weights)
    differences = [float(np.max(np.abs(a - b))) for a, b in zip(resumed_weights, reference_weights)]
    assert max(differences) <= TOLERANCE, max(differences)
    assert read_backup_state(str(killed / "backup")) is None  # Cleared once training finished.
