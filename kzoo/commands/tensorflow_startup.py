"""Importing TensorFlow for a command without the start-up notices that read like failures.

On a CPU machine every TensorFlow import prints, to the process's own stderr and
before any logging setting applies, absl's "All log messages before
absl::InitializeLog() is called are written to STDERR", oneDNN's "custom
operations are on" and "Could not find cuda drivers", and the first device
query adds `E0000 ... failed call to cuInit`. `TF_CPP_MIN_LOG_LEVEL` does not
silence them (measured with TensorFlow 2.21). A command's one-sentence error
would come after that wall, so the commands import TensorFlow through
`import_tensorflow_quietly`: stderr (the file descriptor, so the C++ logs too) is
captured while TensorFlow loads and finds its devices, and replayed without the
known notices. Everything else, real errors and warnings included, still shows,
and the cuInit line is only dropped where the machine has no NVIDIA driver.

Example:
```python
import_tensorflow_quietly()   # then `import tensorflow`, `import keras` cost nothing more
```
"""

import os
import re
import sys
import tempfile

_NOTICES = (
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"I\d{4} .*\] oneDNN custom operations are on\.",
    r"I\d{4} .*\] Could not find cuda drivers on your machine, GPU will not be used\.",
    r"I\d{4} .*\] This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions: .* in other operations, rebuild TensorFlow",
)
_CUDA_WITHOUT_DRIVER = r"E\d{4} .*\] failed call to cuInit: "


def _is_notice(line, has_driver):
    patterns = _NOTICES if has_driver else _NOTICES + (_CUDA_WITHOUT_DRIVER,)
    return any(re.match(pattern, line) for pattern in patterns)


def import_tensorflow_quietly():
    """Imports TensorFlow and lists its devices, replaying stderr without the known start-up notices."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    has_driver = os.path.exists("/proc/driver/nvidia")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # Device discovery is where cuInit is called.
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", errors="replace").splitlines(keepends=True):
                if not _is_notice(line, has_driver):
                    sys.stderr.write(line)
            sys.stderr.flush()
