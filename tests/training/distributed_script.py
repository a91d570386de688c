"""Distribution checks that need their own process; run by tests/training/conftest.py.

    python tests/training/distributed_script.py OUT_JSON

Splits the CPU into two logical devices before TensorFlow initializes (which
is why this runs in a subprocess), then checks, writing one JSON object:

- `strategy`: what `make_strategy` builds here ("mirrored", "one_device",
  "multi_worker" without TF_CONFIG) and what `check_global_batch_size` says;
- `clipping`: tiny regression, 2 epochs x 2 steps, global batch 16; the
  largest weight difference between a 2-replica `MirroredStrategy` run and a
  single-device run, with a plain Keras optimizer and with kzoo's;
- `loss_scale`: one 2-replica `mixed_float16` step where only the second
  replica's half of the batch overflows float16, with Keras's and kzoo's
  `LossScaleOptimizer`, plus 4 ordinary `mixed_float16` steps with clipping,
  mirrored against single-device.
"""

import json
import os
import sys

GLOBAL_BATCH = 16


def _weights(model):
    import numpy as np

    return np.concatenate([w.numpy().ravel() for w in model.weights])


def _regression_data(np):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = 10.0 * (x @ rng.normal(size=(4, 1))).astype("float32")
    return x, y


def _fit(tf, keras, strategy, make_optimizer, x, y, epochs=2, policy="float32", initializer=None):
    keras.config.set_dtype_policy(policy)
    try:
        with strategy.scope():
            keras.utils.set_random_seed(1)
            model = keras.Sequential(
                [
                    keras.Input((x.shape[1],)),
                    keras.layers.Dense(
                        y.shape[1], kernel_initializer=initializer or "glorot_uniform"
                    ),
                ]
            )
            model.compile(optimizer=make_optimizer(), loss="mse", jit_compile=False)
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
        model.fit(dataset, epochs=epochs, verbose=0)
        return model
    finally:
        keras.config.set_dtype_policy("float32")


def _strategy_checks(tf):
    from kzoo.training import multi_worker
    from kzoo.training.strategy import check_global_batch_size, make_strategy

    mirrored = make_strategy("mirrored")
    one_device = make_strategy("one_device")
    try:
        check_global_batch_size(7, mirrored)
        uneven_error = ""
    except ValueError as error:
        uneven_error = str(error)
    was_enabled = multi_worker.is_enabled()
    worker = make_strategy("multi_worker")
    return {
        "mirrored_type": type(mirrored).__name__,
        "mirrored_replicas": mirrored.num_replicas_in_sync,
        "mirrored_per_replica_batch": check_global_batch_size(8, mirrored),
        "uneven_error": uneven_error,
        "one_device_type": type(one_device).__name__,
        "one_device_replicas": one_device.num_replicas_in_sync,
        "multi_worker_type": type(worker).__name__,
        "multi_worker_replicas": worker.num_replicas_in_sync,
        "multi_worker_enabled_before": was_enabled,
        "multi_worker_enabled_after": multi_worker.is_enabled(),
    }


def _clipping_checks(tf, keras, np, single, mirrored):
    from kzoo.training import optimizers

    x, y = _regression_data(np)
    # On one device kzoo's optimizers are Keras's, so one single-device run
    # is the reference for both.
    sgd = _weights(_fit(tf, keras, single, lambda: optimizers.SGD(0.1, global_clipnorm=0.5), x, y))
    keras_sgd = _fit(tf, keras, mirrored, lambda: keras.optimizers.SGD(0.1, global_clipnorm=0.5), x, y)
    kzoo_sgd = _fit(tf, keras, mirrored, lambda: optimizers.SGD(0.1, global_clipnorm=0.5), x, y)
    make_adamw = lambda: optimizers.make_optimizer("adamw", 0.05, clipnorm=0.5)  # noqa: E731
    adamw = _weights(_fit(tf, keras, single, make_adamw, x, y))
    kzoo_adamw = _fit(tf, keras, mirrored, make_adamw, x, y)
    return {
        "keras_sgd_global_clipnorm": float(np.abs(sgd - _weights(keras_sgd)).max()),
        "kzoo_sgd_global_clipnorm": float(np.abs(sgd - _weights(kzoo_sgd)).max()),
        "kzoo_adamw_clipnorm": float(np.abs(adamw - _weights(kzoo_adamw)).max()),
    }


def _loss_scale_checks(tf, keras, np, single, mirrored):
    from kzoo.training import optimizers
    from kzoo.training.precision import wrap_optimizer

    # Rows 0-1 (replica 0) are tiny; rows 2-3 (replica 1) overflow float16.
    # On one device the step is skipped: weights stay [1, 1, 1, 1, 0] and the
    # loss scale halves from 2**15.
    x = np.full((4, 4), 1e-4, "float32")
    x[2:] = 3e4
    y = np.zeros((4, 1), "float32")
    results = {"wrapped_type": type(wrap_optimizer(optimizers.SGD(0.01), "mixed_float16")).__name__}
    for name, make in (
        ("mirrored_keras", lambda: keras.optimizers.LossScaleOptimizer(optimizers.SGD(0.01))),
        ("mirrored_kzoo", lambda: wrap_optimizer(optimizers.SGD(0.01), "mixed_float16")),
    ):
        model = _fit(
            tf, keras, mirrored, make, x, y, epochs=1, policy="mixed_float16", initializer="ones"
        )
        weights = _weights(model)
        results[name] = {
            "finite": bool(np.isfinite(weights).all()),
            "unchanged": bool(np.array_equal(weights, [1, 1, 1, 1, 0])),
            "scale": float(model.optimizer.dynamic_scale.numpy()),
        }
    # Ordinary steps (nothing overflows): mixed_float16 with clipping, mirrored
    # against single-device.
    x, y = _regression_data(np)
    x, y = 0.1 * x, 0.01 * y
    make = lambda: wrap_optimizer(  # noqa: E731
        optimizers.make_optimizer("adamw", 0.01, global_clipnorm=0.05), "mixed_float16"
    )
    one = _fit(tf, keras, single, make, x, y, policy="mixed_float16")
    two = _fit(tf, keras, mirrored, make, x, y, policy="mixed_float16")
    keras.utils.set_random_seed(1)
    initial = _weights(
        keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(y.shape[1])])
    )
    results["finite_steps"] = {
        "max_diff": float(np.abs(_weights(one) - _weights(two)).max()),
        "moved": float(np.abs(_weights(one) - initial).max()),
        "scales": [float(m.optimizer.dynamic_scale.numpy()) for m in (one, two)],
    }
    return results


def main(out_path):
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras

    results = {"strategy": _strategy_checks(tf)}
    single = tf.distribute.OneDeviceStrategy("/cpu:0")
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results["clipping"] = _clipping_checks(tf, keras, np, single, mirrored)
    results["loss_scale"] = _loss_scale_checks(tf, keras, np, single, mirrored)
    with open(out_path, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(sys.argv[1])
