"""`kzoo train` that SIGKILLs itself mid-epoch; run by tests/training/test_resume.py.

    python tests/training/train_and_kill.py KILL_AFTER_STEP [kzoo train arguments...]

Runs the real `kzoo train` command line with one extra callback that sends
SIGKILL to its own process after training step `KILL_AFTER_STEP` (counted from
1 over the whole run), so nothing gets a chance to clean up, as with an
out-of-memory kill or a pre-empted machine.
"""

import os
import signal
import sys


def main(kill_after_step, arguments):
    import keras

    import kzoo.training.callbacks as callbacks
    from kzoo.commands import main as kzoo

    class KillAfterStep(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.steps == kill_after_step:
                os.kill(os.getpid(), signal.SIGKILL)

    standard_callbacks = callbacks.standard_callbacks
    callbacks.standard_callbacks = lambda *args, **kwargs: standard_callbacks(*args, **kwargs) + [KillAfterStep()]
    return kzoo(["train", *arguments])


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2:]))
