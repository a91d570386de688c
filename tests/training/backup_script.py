"""A training run that SIGKILLs itself mid-epoch; run by tests/training/conftest.py.

    python tests/training/backup_script.py RUN_DIR

Trains `make_model()` on `make_data()` for `EPOCHS` epochs of
`STEPS_PER_EPOCH` steps with `AtomicBackupAndRestore(RUN_DIR/backup,
save_freq=SAVE_FREQ)`, and kills itself with SIGKILL right after step
`KILL_AFTER_STEP` (counted from 1 over the whole run), which is mid-epoch and
after a backup. tests/training/test_callbacks.py resumes from what it left.
"""

import os
import signal
import sys

EPOCHS = 3
STEPS_PER_EPOCH = 4
BATCH_SIZE = 4
SAVE_FREQ = 2
KILL_AFTER_STEP = 7  # Epoch 1, step 3; the last backup is after step 6.
SEED = 3


def make_data():
    import numpy as np

    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(STEPS_PER_EPOCH * BATCH_SIZE, 3)).astype("float32")
    y = np.sin(x.sum(axis=1, keepdims=True)).astype("float32")
    return x, y


def make_model(seed=SEED):
    """A small MLP with SGD + momentum (so optimizer state matters), built."""
    import keras

    from kzoo.training.optimizers import make_optimizer

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(
        optimizer=make_optimizer("sgd", 0.05, momentum=0.9), loss="mse", jit_compile=False
    )
    return model


def fit(model, callbacks, epochs=EPOCHS):
    x, y = make_data()
    return model.fit(
        x, y, batch_size=BATCH_SIZE, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks
    )


def main(run_dir):
    import keras

    from kzoo.training.callbacks import AtomicBackupAndRestore

    class KillAfter(keras.callbacks.Callback):
        steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.steps == KILL_AFTER_STEP:
                os.kill(os.getpid(), signal.SIGKILL)

    backup = AtomicBackupAndRestore(os.path.join(run_dir, "backup"), save_freq=SAVE_FREQ)
    fit(make_model(), [backup, KillAfter()])
    sys.exit("not killed")  # pragma: no cover


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(sys.argv[1])
