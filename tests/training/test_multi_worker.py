"""Tests for kzoo.training.multi_worker (keras-team/keras#20585).

Three processes run at once (tests/training/multi_worker_script.py): two
`MultiWorkerMirroredStrategy` workers on 127.0.0.1, and one reference process
that splits the CPU into two logical devices and trains the same model on one
device and on a 2-replica `MirroredStrategy`. Same model, same initial weights,
same generator-backed data and the same global batch of 8 everywhere.

Tolerances, against the single-device run:
- per-step losses and metric values, epoch and evaluate losses: rtol 1e-5
  (measured: at most 5e-7);
- final weights, optimizer state and predictions: atol 1e-6 (measured: 5e-8);
- the two workers against each other: bit-identical weights.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from kzoo.training import multi_worker
from tests.training import multi_worker_script as script

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "multi_worker_script.py")
TIMEOUT_S = 240
LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-6


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _tail(path, lines=40):
    with open(path, errors="replace") as f:
        kept = [
            line
            for line in f.read().splitlines()
            if not line.startswith(("I0000", "W0000", "WARNING: All log messages"))
            and "cuInit" not in line
        ]
    return "\n".join(kept[-lines:])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs the two workers and the reference process; returns their results."""
    root = tmp_path_factory.mktemp("multi_worker")
    out = root / "out"
    out.mkdir()
    ports = ",".join(str(p) for p in _free_ports(2))
    commands = {
        "worker0": ["worker", str(out), "0", ports],
        "worker1": ["worker", str(out), "1", ports],
        "reference": ["reference", str(out)],
    }
    procs = {}
    for name, args in commands.items():
        tmp = root / f"tmp_{name}"
        tmp.mkdir()
        env = dict(os.environ)
        env.pop("TF_CONFIG", None)
        env.update(
            CUDA_VISIBLE_DEVICES="-1",
            KERAS_BACKEND="tensorflow",
            TF_CPP_MIN_LOG_LEVEL="2",
            TMPDIR=str(tmp),
            PYTHONPATH=os.pathsep.join(
                p for p in (REPO_ROOT, env.get("PYTHONPATH")) if p
            ),
        )
        log = open(root / f"{name}.log", "w")
        procs[name] = (
            subprocess.Popen(
                [sys.executable, SCRIPT, *args],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            log,
        )
    started = time.monotonic()
    codes = {}
    try:
        # Wait for all; stop early when one fails, since its peers would only
        # wait for it until their collectives time out.
        while time.monotonic() - started < TIMEOUT_S:
            codes = {name: proc.poll() for name, (proc, _) in procs.items()}
            if all(c is not None for c in codes.values()) or any(codes.values()):
                break
            time.sleep(0.2)
    finally:
        for proc, log in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
    failed = {name: code for name, code in codes.items() if code != 0}
    if failed:
        pytest.fail(
            "multi-worker test processes failed (exit codes; None = still running "
            f"when stopped, after {TIMEOUT_S} s or a peer's failure): {failed}\n"
            + "\n".join(f"--- {n}.log\n{_tail(root / f'{n}.log')}" for n in failed)
        )
    results = {
        name: dict(np.load(out / f"{name}.npz"))
        for name in ("single", "mirrored", "worker0", "worker1")
    }
    return types.SimpleNamespace(root=root, out=out, results=results)


def _per_step(batch_logs):
    """Per-step values from Keras's per-batch logs (running means within an epoch)."""
    running = batch_logs.reshape(script.EPOCHS, script.STEPS_PER_EPOCH, -1)
    steps = np.arange(1, script.STEPS_PER_EPOCH + 1)[None, :, None]
    totals = running * steps
    return np.diff(totals, axis=1, prepend=0.0).reshape(-1, batch_logs.shape[-1])


def _state_keys(result):
    return sorted(k for k in result if k.startswith(("weight_", "optimizer_")))


def _assert_matches_single(result, single):
    assert int(result["replicas"]) == 2
    close = np.testing.assert_allclose
    steps = _per_step(result["batch_logs"])
    close(steps, _per_step(single["batch_logs"]), rtol=LOSS_RTOL)
    close(result["epoch_loss"], single["epoch_loss"], rtol=LOSS_RTOL)
    close(result["eval_loss"], single["eval_loss"], rtol=LOSS_RTOL)
    assert _state_keys(result) == _state_keys(single)
    for key in _state_keys(single):
        close(result[key], single[key], rtol=0, atol=WEIGHT_ATOL, err_msg=key)
    close(result["predictions"], single["predictions"], rtol=0, atol=WEIGHT_ATOL)


def test_plain_keras_still_fails_with_two_workers(runs):
    """If this fails, keras-team/keras#20585 may be fixed: is the patch still needed?"""
    for name in ("worker0", "worker1"):
        error = str(runs.results[name]["unpatched_error"])
        assert "PerReplica" in error and "unsupported type" in error, (
            f"{name}: plain Keras no longer fails the known way (got {error!r}); "
            "re-check keras-team/keras#20585 and kzoo.training.multi_worker."
        )


def test_steps_per_execution_above_one_fails_clearly(runs):
    for name in ("worker0", "worker1"):
        error = str(runs.results[name]["steps_per_execution_error"])
        assert "argument `steps_per_execution`" in error, error
        assert "Received: steps_per_execution=2" in error, error


def test_two_workers_end_with_identical_state(runs):
    w0, w1 = runs.results["worker0"], runs.results["worker1"]
    assert _state_keys(w0) == _state_keys(w1) and len(_state_keys(w0)) >= 4
    for key in _state_keys(w0):
        assert np.array_equal(w0[key], w1[key]), key
    assert np.array_equal(w0["batch_logs"], w1["batch_logs"])


def test_two_workers_match_single_worker_run(runs):
    single = runs.results["single"]
    # The run actually trained: the per-step loss moved.
    assert np.ptp(_per_step(single["batch_logs"])[:, 0]) > 0.05
    for name in ("worker0", "worker1"):
        _assert_matches_single(runs.results[name], single)


def test_mirrored_two_logical_cpus_matches_single_device(runs):
    _assert_matches_single(runs.results["mirrored"], runs.results["single"])


def test_only_chief_writes_the_model(runs):
    import keras

    chief_path = runs.out / "worker0.keras"
    assert str(runs.results["worker0"]["saved"]) == str(chief_path)
    assert str(runs.results["worker1"]["saved"]) == ""
    assert not (runs.out / "worker1.keras").exists()
    assert not [p for p in os.listdir(runs.out) if ".partial" in p]
    # The non-chief's temporary folder was removed.
    leftovers = os.listdir(runs.root / "tmp_worker1")
    assert not [p for p in leftovers if p.startswith("kzoo-worker-")]
    loaded = keras.saving.load_model(chief_path)
    for i, weight in enumerate(loaded.weights):
        expected = runs.results["worker0"][f"weight_{i}"]
        np.testing.assert_array_equal(weight.numpy(), expected)


def test_enable_is_idempotent_and_disable_restores():
    from keras.src.backend.tensorflow import trainer as trainer_module

    was_enabled = multi_worker.is_enabled()
    multi_worker.disable()
    original_build = trainer_module.TensorFlowTrainer._maybe_symbolic_build
    original_reduce = trainer_module.reduce_per_replica
    try:
        multi_worker.enable()
        patched_build = trainer_module.TensorFlowTrainer._maybe_symbolic_build
        patched_reduce = trainer_module.reduce_per_replica
        assert patched_build is not original_build
        assert patched_reduce is not original_reduce
        multi_worker.enable()
        assert trainer_module.TensorFlowTrainer._maybe_symbolic_build is patched_build
        assert trainer_module.reduce_per_replica is patched_reduce
        assert multi_worker.is_enabled()
        multi_worker.disable()
        assert trainer_module.TensorFlowTrainer._maybe_symbolic_build is original_build
        assert trainer_module.reduce_per_replica is original_reduce
        assert not multi_worker.is_enabled()
    finally:
        multi_worker.disable()
        if was_enabled:
            multi_worker.enable()


def test_with_data_sharding_sets_policy_and_rejects_unknown():
    import tensorflow as tf

    dataset = tf.data.Dataset.range(4).batch(2)
    sharded = multi_worker.with_data_sharding(dataset)
    assert (
        sharded.options().experimental_distribute.auto_shard_policy
        == tf.data.experimental.AutoShardPolicy.DATA
    )
    off = multi_worker.with_data_sharding(dataset, policy="off")
    assert (
        off.options().experimental_distribute.auto_shard_policy
        == tf.data.experimental.AutoShardPolicy.OFF
    )
    with pytest.raises(ValueError, match=r"argument `policy`.*Received: policy='rows'"):
        multi_worker.with_data_sharding(dataset, policy="rows")


def test_per_replica_batch_size_validates():
    strategy = types.SimpleNamespace(num_replicas_in_sync=2)
    assert multi_worker.per_replica_batch_size(8, strategy) == 4
    uneven = r"multiple of the number of replicas \(2\)\. Received: global_batch_size=7"
    with pytest.raises(ValueError, match=uneven):
        multi_worker.per_replica_batch_size(7, strategy)
    zero = r"positive integer\. Received: global_batch_size=0"
    with pytest.raises(ValueError, match=zero):
        multi_worker.per_replica_batch_size(0, strategy)


@pytest.mark.parametrize(
    "cluster, task_type, task_id, chief",
    [
        ({"worker": ["a:1", "b:1"]}, "worker", 0, True),
        ({"worker": ["a:1", "b:1"]}, "worker", 1, False),
        ({"chief": ["c:1"], "worker": ["a:1"]}, "worker", 0, False),
        ({"chief": ["c:1"], "worker": ["a:1"]}, "chief", 0, True),
    ],
)
def test_is_chief_and_worker_filepath(cluster, task_type, task_id, chief, tmp_path):
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id
    )
    strategy = types.SimpleNamespace(cluster_resolver=resolver)
    assert multi_worker.is_chief(strategy) is chief
    target = str(tmp_path / "model.keras")
    path = multi_worker.worker_filepath(target, strategy)
    if chief:
        assert path == target
    else:
        assert path != target and os.path.basename(path) == "model.keras"
        shutil.rmtree(os.path.dirname(path))


def test_is_chief_without_cluster():
    assert multi_worker.is_chief(types.SimpleNamespace(cluster_resolver=None))
