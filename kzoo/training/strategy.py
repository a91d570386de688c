"""Strategy factory: TPU, multi-worker, multi-GPU or the default strategy.

`make_strategy("auto")` decides in this order, the first that applies wins:

1. `"tpu"`: a `TPUClusterResolver` finds a TPU (see `find_tpu`).
2. `"multi_worker"`: the `TF_CONFIG` environment variable names more than one
   task of type "chief" or "worker". `kzoo.training.multi_worker.enable()` is
   called first, so Keras 3's `model.fit` works there (keras-team/keras#20585).
3. `"mirrored"`: more than one GPU is visible.
4. `"default"`: the default strategy (one device; Keras places ops on the GPU
   if there is one).

The decision itself is the pure function `choose_strategy_kind`, so it can be
tested without a TPU, GPUs or a cluster. Every kind can also be named
explicitly, and so can `"one_device"`.

Build and compile the model inside `strategy.scope()`. The batch size the user
sets is the global batch (all replicas of one step together);
`check_global_batch_size` checks that it splits evenly across replicas and
returns the per-replica batch size.

TPU detection does no network call of its own and fails fast and quietly when
there is no TPU: without one of the environment variables `TPU_NAME`,
`KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS` or `TPU_CONFIG`, and without local TPU
devices (`/dev/accel*` or `/dev/vfio/<n>` plus an installed `libtpu`), it does
not even construct a resolver. When one of those variables is set, the
resolver may query the GCE metadata server as TensorFlow always does there.

`"mirrored"` on a machine without GPUs mirrors over the logical CPU devices,
which is how distribution is tested without GPUs (split the CPU into two
logical devices with `tf.config.set_logical_device_configuration` before
TensorFlow initializes).

Example:
```python
import keras
from kzoo.training.strategy import check_global_batch_size, make_strategy

strategy = make_strategy("auto")          # default strategy on a CPU machine
per_replica = check_global_batch_size(64, strategy)
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adamw", loss="mse")
```
"""

import glob
import importlib.util
import json
import logging
import os

from kzoo.training import multi_worker
from kzoo.runtime.validation import check_choice

STRATEGY_NAMES = ("auto", "default", "mirrored", "multi_worker", "tpu", "one_device")
STRATEGY_KINDS = ("tpu", "multi_worker", "mirrored", "default")
TPU_ENV_VARIABLES = ("TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_CONFIG")

_logger = logging.getLogger(__name__)


def _invalid_tf_config(expected, tf_config_env):
    return ValueError(
        "Received an invalid value for environment variable `TF_CONFIG`, expected "
        f"{expected}. Received: TF_CONFIG={tf_config_env!r}"
    )


def cluster_size(tf_config_env):
    """Number of "chief" and "worker" tasks a `TF_CONFIG` value names.

    Args:
        tf_config_env: str or None, the value of the `TF_CONFIG` environment
            variable (None or empty when unset).

    Returns:
        int, 0 when `tf_config_env` is None or empty.

    Raises:
        ValueError: if the value is not a JSON object whose "cluster" maps
            task types to lists of addresses, or if it names parameter
            servers ("ps"), which kzoo does not support.
    """
    if not tf_config_env:
        return 0
    try:
        config = json.loads(tf_config_env)
    except (TypeError, ValueError):
        raise _invalid_tf_config("a JSON object", tf_config_env) from None
    cluster = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not all(
        isinstance(tasks, (list, dict)) for tasks in cluster.values()
    ):
        raise _invalid_tf_config(
            'a JSON object whose "cluster" maps task types to address lists',
            tf_config_env,
        )
    if cluster.get("ps"):
        raise _invalid_tf_config(
            'a cluster of "chief" and "worker" tasks only (kzoo does not do '
            "parameter-server training)",
            tf_config_env,
        )
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def choose_strategy_kind(tf_config_env, num_gpus, tpu_found):
    """The strategy `make_strategy("auto")` builds, as a pure decision.

    Args:
        tf_config_env: str or None, the value of the `TF_CONFIG` environment
            variable.
        num_gpus: int, the number of visible GPUs.
        tpu_found: bool, whether a TPU resolver found a TPU.

    Returns:
        One of "tpu", "multi_worker", "mirrored", "default" (in that priority).

    Example:
    ```python
    choose_strategy_kind(None, num_gpus=4, tpu_found=False)     # "mirrored"
    ```
    """
    if tpu_found:
        return "tpu"
    if cluster_size(tf_config_env) > 1:
        return "multi_worker"
    if num_gpus > 1:
        return "mirrored"
    return "default"


def _local_tpu_present():
    devices = glob.glob("/dev/accel[0-9]*") or glob.glob("/dev/vfio/[0-9]*")
    return bool(devices) and importlib.util.find_spec("libtpu") is not None


def find_tpu():
    """A `TPUClusterResolver` for the TPU this process can use, or None.

    Returns None at once, without importing TensorFlow, unless one of
    `TPU_ENV_VARIABLES` is set or local TPU devices are present; then it
    constructs `TPUClusterResolver()` (`tpu="local"` for local devices) and
    returns None if that raises.

    Returns:
        A `tf.distribute.cluster_resolver.TPUClusterResolver` or None.
    """
    from_env = any(os.environ.get(name) for name in TPU_ENV_VARIABLES)
    if not from_env and not _local_tpu_present():
        return None
    import tensorflow as tf

    try:
        if from_env:
            return tf.distribute.cluster_resolver.TPUClusterResolver()
        return tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
    except (ValueError, RuntimeError, ImportError, OSError, tf.errors.OpError) as error:
        _logger.info("No TPU: TPUClusterResolver failed with %s", error)
        return None


def _tpu_strategy(resolver):
    import tensorflow as tf

    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _mirrored_strategy(devices):
    import tensorflow as tf

    if devices is None and not tf.config.list_physical_devices("GPU"):
        # MirroredStrategy() without GPUs uses CPU:0 only; mirror over every
        # logical CPU device instead (two of them in the distribution tests).
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)


def _default_strategy():
    import tensorflow as tf

    if tf.distribute.has_strategy():
        raise RuntimeError(
            "make_strategy('default') must be called outside a strategy scope, "
            f"it was called inside a {type(tf.distribute.get_strategy()).__name__} scope."
        )
    return tf.distribute.get_strategy()


def make_strategy(name="auto", devices=None, device=None):
    """Builds a `tf.distribute.Strategy` by name.

    Args:
        name: str, default "auto". One of `STRATEGY_NAMES`: "auto" (see the
            module docstring), "default", "mirrored" (all GPUs, else all
            logical CPU devices), "multi_worker" (`MultiWorkerMirroredStrategy`
            from `TF_CONFIG`, after `multi_worker.enable()`), "tpu" or
            "one_device".
        devices: optional list of device names for "mirrored".
        device: optional device name for "one_device"; defaults to the first
            GPU, else the CPU.

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        ValueError: for an unknown `name`, a malformed `TF_CONFIG`, or
            `devices`/`device` given with a name that does not use them.
        RuntimeError: for "tpu" when no TPU is found.
    """
    check_choice("name", name, STRATEGY_NAMES)
    if devices is not None and name != "mirrored":
        raise ValueError(
            "Received an invalid value for argument `devices`, expected None "
            f"unless name='mirrored'. Received: devices={devices!r}"
        )
    if device is not None and name != "one_device":
        raise ValueError(
            "Received an invalid value for argument `device`, expected None "
            f"unless name='one_device'. Received: device={device!r}"
        )
    import tensorflow as tf

    resolver = None
    if name == "auto":
        resolver = find_tpu()
        name = choose_strategy_kind(
            os.environ.get("TF_CONFIG"),
            num_gpus=len(tf.config.list_physical_devices("GPU")),
            tpu_found=resolver is not None,
        )
        _logger.info("make_strategy('auto') chose %r", name)
    if name == "tpu":
        resolver = resolver or find_tpu()
        if resolver is None:
            raise RuntimeError(
                "make_strategy('tpu') found no TPU: set TPU_NAME (or "
                "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS) or run on a TPU VM with libtpu."
            )
        return _tpu_strategy(resolver)
    if name == "multi_worker":
        cluster_size(os.environ.get("TF_CONFIG"))  # Fails clearly on a bad TF_CONFIG.
        multi_worker.enable()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return _mirrored_strategy(devices)
    if name == "one_device":
        if device is None:
            device = "/gpu:0" if tf.config.list_physical_devices("GPU") else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)
    return _default_strategy()


def check_global_batch_size(global_batch_size, strategy):
    """Checks that the global batch splits evenly across `strategy`'s replicas.

    The global batch is the one the user sets: one training step across all
    replicas of all workers. Uses `multi_worker.per_replica_batch_size`.

    Args:
        global_batch_size: int.
        strategy: a `tf.distribute.Strategy`.

    Returns:
        int, the batch size each replica sees.

    Raises:
        ValueError: if `global_batch_size` is not a positive integer or is
            not a multiple of `strategy.num_replicas_in_sync`.

    Example:
    ```python
    check_global_batch_size(64, make_strategy("default"))   # 64
    ```
    """
    return multi_worker.per_replica_batch_size(global_batch_size, strategy)
