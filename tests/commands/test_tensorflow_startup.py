"""kzoo.commands.tensorflow_startup: TensorFlow's start-up notices go, everything else stays."""

import subprocess
import sys

from kzoo.commands.tensorflow_startup import _is_notice

NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1795942817.289862    6312 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors.\n",
    "I0000 00:00:1795942817.290274    6312 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.\n",
]
CUINIT = "E0000 00:00:1795942822.764950    6312 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n"


def test_known_notices_are_recognised_and_real_messages_are_not():
    assert all(_is_notice(line, has_driver=False) for line in NOTICES)
    assert _is_notice(CUINIT, has_driver=False)
    assert not _is_notice(CUINIT, has_driver=True)  # With an NVIDIA driver a failed cuInit is a real error.
    assert not _is_notice("E0000 00:00:1.0 123 op_kernel.cc:1] OOM when allocating tensor\n", has_driver=False)
    assert not _is_notice("UserWarning: something the user should see\n", has_driver=False)


def test_a_command_process_imports_tensorflow_without_the_notices_but_keeps_its_own_stderr():
    code = (
        "import sys\n"
        "from kzoo.commands.tensorflow_startup import import_tensorflow_quietly\n"
        "print('before', file=sys.stderr)\n"
        "import_tensorflow_quietly()\n"
        "import tensorflow as tf\n"
        "tf.constant(1)\n"
        "print('after', file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["before", "after"]
