"""Tests for kzoo.training.strategy.

The "auto" decision is tested as the pure function `choose_strategy_kind`;
`make_strategy` itself is tested on this CPU machine (in-process: default,
TPU not found) and on two logical CPU devices in a subprocess (mirrored,
one_device, multi_worker without TF_CONFIG; see conftest.py).
"""

import json
import time
import types
import urllib.request

import pytest

from kzoo.training import strategy as strategy_lib
from kzoo.training.strategy import (
    STRATEGY_NAMES,
    check_global_batch_size,
    choose_strategy_kind,
    cluster_size,
    find_tpu,
    make_strategy,
)


def _tf_config(cluster, task=("worker", 0)):
    return json.dumps({"cluster": cluster, "task": {"type": task[0], "index": task[1]}})


TWO_WORKERS = _tf_config({"worker": ["127.0.0.1:1", "127.0.0.1:2"]})
CHIEF_AND_WORKER = _tf_config({"chief": ["h:1"], "worker": ["h:2"]}, ("chief", 0))
ONE_WORKER = _tf_config({"worker": ["127.0.0.1:1"]})


@pytest.fixture
def no_cluster_no_tpu(monkeypatch):
    """Nothing in the environment points to a cluster or a TPU, and no network."""
    for name in ("TF_CONFIG",) + strategy_lib.TPU_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(strategy_lib, "_local_tpu_present", lambda: False)

    def no_network(*args, **kwargs):
        raise AssertionError("TPU detection made a network call")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


@pytest.mark.parametrize(
    "tf_config, num_gpus, tpu_found, expected",
    [
        (None, 0, False, "default"),
        ("", 1, False, "default"),
        (None, 2, False, "mirrored"),
        (None, 8, False, "mirrored"),
        (TWO_WORKERS, 0, False, "multi_worker"),
        (TWO_WORKERS, 4, False, "multi_worker"),
        (CHIEF_AND_WORKER, 0, False, "multi_worker"),
        (ONE_WORKER, 0, False, "default"),
        (ONE_WORKER, 2, False, "mirrored"),
        (TWO_WORKERS, 4, True, "tpu"),
        (None, 0, True, "tpu"),
    ],
)
def test_choose_strategy_kind(tf_config, num_gpus, tpu_found, expected):
    assert choose_strategy_kind(tf_config, num_gpus=num_gpus, tpu_found=tpu_found) == expected


def test_cluster_size_counts_chief_and_workers():
    assert cluster_size(None) == 0
    assert cluster_size(TWO_WORKERS) == 2
    assert cluster_size(CHIEF_AND_WORKER) == 2
    assert cluster_size(_tf_config({"chief": ["h:1"], "worker": ["h:2", "h:3"], "evaluator": ["h:4"]})) == 3


@pytest.mark.parametrize(
    "tf_config, match",
    [
        ("{not json", r"environment variable `TF_CONFIG`, expected a JSON object\. Received: TF_CONFIG='\{not json'"),
        ('{"cluster": ["a"]}', r"expected a JSON object whose \"cluster\" maps task types"),
        (_tf_config({"worker": ["a:1"], "ps": ["b:1"]}), r"kzoo does not do parameter-server training"),
    ],
)
def test_bad_tf_config_fails_with_one_sentence(tf_config, match):
    with pytest.raises(ValueError, match=match):
        choose_strategy_kind(tf_config, num_gpus=0, tpu_found=False)


def test_auto_on_this_cpu_machine_is_the_default_strategy(no_cluster_no_tpu):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this check is for a machine without GPUs")
    strategy = make_strategy("auto")
    assert strategy is tf.distribute.get_strategy()
    assert not tf.distribute.has_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert make_strategy("default") is strategy


def test_tpu_detection_is_fast_and_quiet_without_a_tpu(no_cluster_no_tpu):
    started = time.monotonic()
    assert find_tpu() is None
    with pytest.raises(RuntimeError, match=r"make_strategy\('tpu'\) found no TPU"):
        make_strategy("tpu")
    assert time.monotonic() - started < 2.0


def test_find_tpu_swallows_resolver_errors(monkeypatch):
    import tensorflow as tf

    monkeypatch.setenv("TPU_NAME", "no-such-tpu")

    def failing_resolver(*args, **kwargs):
        raise ValueError("Please provide a TPU Name to connect to.")

    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", failing_resolver)
    assert find_tpu() is None


def test_unknown_name_lists_the_valid_ones():
    expected = ", ".join(repr(n) for n in STRATEGY_NAMES)
    with pytest.raises(ValueError, match=rf"argument `name`, expected one of {expected}\. Received: name='horovod'"):
        make_strategy("horovod")


def test_device_arguments_only_with_their_strategy():
    with pytest.raises(ValueError, match=r"`devices`, expected None unless name='mirrored'\. Received: devices=\['/cpu:0'\]"):
        make_strategy("default", devices=["/cpu:0"])
    with pytest.raises(ValueError, match=r"`device`, expected None unless name='one_device'"):
        make_strategy("mirrored", device="/cpu:0")


def test_default_inside_a_scope_fails_clearly():
    import tensorflow as tf

    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        with pytest.raises(RuntimeError, match=r"outside a strategy scope.*OneDeviceStrategy"):
            make_strategy("default")


def test_check_global_batch_size():
    two = types.SimpleNamespace(num_replicas_in_sync=2)
    assert check_global_batch_size(64, two) == 32
    assert check_global_batch_size(5, types.SimpleNamespace(num_replicas_in_sync=1)) == 5
    with pytest.raises(
        ValueError,
        match=r"^Received an invalid value for argument `global_batch_size`, expected a "
        r"multiple of the number of replicas \(2\)\. Received: global_batch_size=7$",
    ):
        check_global_batch_size(7, two)
    with pytest.raises(ValueError, match=r"positive integer\. Received: global_batch_size=-8"):
        check_global_batch_size(-8, two)


def test_mirrored_on_two_logical_cpus_has_two_replicas(distributed_results):
    results = distributed_results["strategy"]
    assert results["mirrored_type"] == "MirroredStrategy"
    assert results["mirrored_replicas"] == 2
    assert results["mirrored_per_replica_batch"] == 4
    assert results["uneven_error"].endswith("replicas (2). Received: global_batch_size=7")
    assert (results["one_device_type"], results["one_device_replicas"]) == ("OneDeviceStrategy", 1)


def test_multi_worker_enables_the_keras_fix(distributed_results):
    results = distributed_results["strategy"]
    # tf.distribute.MultiWorkerMirroredStrategy is CollectiveAllReduceStrategy.
    assert results["multi_worker_type"] == "CollectiveAllReduceStrategy"
    assert results["multi_worker_replicas"] == 1  # No TF_CONFIG: one worker, its CPU.
    assert not results["multi_worker_enabled_before"]
    assert results["multi_worker_enabled_after"]
