"""Subprocess fixtures for the kzoo.training tests.

Two checks need a process of their own:

- `distributed_results`: tests/training/distributed_script.py splits the CPU
  into two logical devices, which TensorFlow allows only before it
  initializes (strategy, clipping and loss-scaling checks under a 2-replica
  `MirroredStrategy`);
- `killed_run`: tests/training/backup_script.py trains and SIGKILLs itself
  mid-epoch.

Each script runs once per test session. In a plain run it starts as soon as
collection shows a test that uses it, so it runs while the in-process tests
do, and the fixture waits for it. Under pytest-xdist (`make test`) the first
worker that needs it starts it in a folder all workers share, and the others
wait for its exit-status file.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT_S = 300
_SCRIPTS = {
    "distributed_results": ("distributed_script.py", "results.json"),
    "killed_run": ("backup_script.py", "run"),
}
_processes = []  # Popen objects this process started.
_plain_root = None  # Plain (non-xdist) runs: a temporary folder, removed at the end.


def _launch(name, folder):
    """Starts the script for `name`; its shell writes the exit status to `folder/rc`."""
    script, target = _SCRIPTS[name]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CONFIG", "TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_CONFIG")
    }
    env.update(
        CUDA_VISIBLE_DEVICES="-1",
        KERAS_BACKEND="tensorflow",
        TF_CPP_MIN_LOG_LEVEL="3",
        TMPDIR=folder,
        PYTHONPATH=os.pathsep.join(p for p in (REPO_ROOT, env.get("PYTHONPATH")) if p),
    )
    command = " ".join(
        shlex.quote(p) for p in (sys.executable, os.path.join(HERE, script), os.path.join(folder, target))
    )
    rc, log = shlex.quote(os.path.join(folder, "rc")), shlex.quote(os.path.join(folder, "log.txt"))
    # Write the status under a temporary name and rename it: readers never see half of it.
    shell = f"{command} > {log} 2>&1; echo $? > {rc}.partial; mv {rc}.partial {rc}"
    _processes.append(
        subprocess.Popen(["/bin/sh", "-c", shell], cwd=REPO_ROOT, env=env, start_new_session=True)
    )


def _wait(folder):
    """The script's exit status (a shell status: 128 + N when killed by signal N)."""
    rc_path = os.path.join(folder, "rc")
    deadline = time.monotonic() + TIMEOUT_S
    while not os.path.exists(rc_path):
        if time.monotonic() > deadline:
            pytest.fail(f"{folder}: no result after {TIMEOUT_S} s\n{_log_tail(folder)}")
        time.sleep(0.1)
    with open(rc_path) as f:
        return int(f.read())


def _log_tail(folder, lines=30):
    try:
        with open(os.path.join(folder, "log.txt"), errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    kept = [
        line
        for line in text.splitlines()
        if not line.startswith(("I0000", "W0000", "E0000", "WARNING: All log messages"))
    ]
    return "\n".join(kept[-lines:])


def _plain_folder(name):
    return os.path.join(_plain_root, name)


@pytest.hookimpl(trylast=True)  # After -k/-m/--deselect have removed items.
def pytest_collection_modifyitems(session, config, items):
    global _plain_root
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    needed = sorted(
        {name for item in items for name in getattr(item, "fixturenames", ()) if name in _SCRIPTS}
    )
    if needed and _plain_root is None:
        _plain_root = tempfile.mkdtemp(prefix="kzoo-training-tests-")
        for name in needed:
            os.makedirs(_plain_folder(name))
            _launch(name, _plain_folder(name))


def pytest_sessionfinish(session, exitstatus):
    for process in _processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if _plain_root is not None:
        shutil.rmtree(_plain_root, ignore_errors=True)


def _folder_for(name, tmp_path_factory):
    """Where the script for `name` runs (and writes), started by whoever gets there first."""
    global _plain_root
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        if _plain_root is None:
            _plain_root = tempfile.mkdtemp(prefix="kzoo-training-tests-")
        if not os.path.exists(_plain_folder(name)):  # Not seen at collection.
            os.makedirs(_plain_folder(name))
            _launch(name, _plain_folder(name))
        return _plain_folder(name)
    folder = str(tmp_path_factory.getbasetemp().parent / f"kzoo-training-{name}")
    try:
        os.makedirs(folder)  # Atomic: exactly one worker gets to start the script.
    except FileExistsError:
        return folder
    _launch(name, folder)
    return folder


@pytest.fixture(scope="session")
def distributed_results(tmp_path_factory):
    """The JSON that tests/training/distributed_script.py wrote."""
    folder = _folder_for("distributed_results", tmp_path_factory)
    status = _wait(folder)
    if status != 0:
        pytest.fail(f"distributed_script.py failed (exit status {status}):\n{_log_tail(folder)}")
    with open(os.path.join(folder, _SCRIPTS["distributed_results"][1])) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def killed_run(tmp_path_factory):
    """The run folder tests/training/backup_script.py left, and its exit status."""
    folder = _folder_for("killed_run", tmp_path_factory)
    status = _wait(folder)
    return types.SimpleNamespace(
        run_dir=os.path.join(folder, _SCRIPTS["killed_run"][1]), status=status, log_tail=_log_tail(folder)
    )
