"""One process of the multi-worker tests; run by tests/training/test_multi_worker.py.

    python tests/training/multi_worker_script.py reference OUT_DIR
    python tests/training/multi_worker_script.py worker OUT_DIR INDEX PORT0,PORT1

`reference` splits the CPU into two logical devices, then trains the same tiny
model twice: on the default (single-device) strategy and on a 2-replica
`MirroredStrategy`. `worker` joins a `MultiWorkerMirroredStrategy` cluster on
127.0.0.1 (TF_CONFIG), first checks that plain Keras still fails there
(keras-team/keras#20585), then trains with `kzoo.training.multi_worker`
enabled. Each run writes `<name>.npz` (per-batch logs, weights, evaluate and
predict results) into OUT_DIR.
"""

import json
import os
import sys

GLOBAL_BATCH = 8
EPOCHS = 2
STEPS_PER_EPOCH = 4
NUM_EXAMPLES = 48  # 6 global batches; the pipeline repeats
SEED = 7


def _make_dataset(tf, np, multi_worker):
    """A generator-backed pipeline, batched to the global batch size."""

    def examples():
        rng = np.random.default_rng(SEED)
        w = rng.normal(size=(4, 1)).astype("float32")
        x = rng.normal(size=(NUM_EXAMPLES, 4)).astype("float32")
        y = np.tanh(x @ w) + 0.1 * rng.normal(size=(NUM_EXAMPLES, 1)).astype("float32")
        for i in range(NUM_EXAMPLES):
            yield x[i], y[i].astype("float32")

    dataset = tf.data.Dataset.from_generator(
        examples,
        output_signature=(
            tf.TensorSpec((4,), tf.float32),
            tf.TensorSpec((1,), tf.float32),
        ),
    )
    dataset = dataset.repeat().batch(GLOBAL_BATCH, drop_remainder=True)
    return multi_worker.with_data_sharding(dataset)


def _train(strategy, name, out_dir, check_unpatched=False):
    import keras
    import numpy as np
    import tensorflow as tf

    from kzoo.training import multi_worker

    record = {}
    if check_unpatched:
        # Plain Keras on a throwaway model: still broken upstream?
        with strategy.scope():
            broken = _build_model(keras, seed=SEED)
        try:
            broken.fit(
                _make_dataset(tf, np, multi_worker),
                epochs=1,
                steps_per_epoch=1,
                verbose=0,
            )
            record["unpatched_error"] = ""
        except Exception as e:  # noqa: BLE001 (the message is what we record)
            record["unpatched_error"] = f"{type(e).__name__}: {e}"
        multi_worker.enable()

    multi_worker.per_replica_batch_size(GLOBAL_BATCH, strategy)
    with strategy.scope():
        model = _build_model(keras, seed=SEED)

    batch_logs = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_logs.append((logs["loss"], logs["mean_absolute_error"]))

    dataset = _make_dataset(tf, np, multi_worker)
    history = model.fit(
        dataset,
        epochs=EPOCHS,
        steps_per_epoch=STEPS_PER_EPOCH,
        callbacks=[Record()],
        verbose=0,
    )
    evaluation = model.evaluate(dataset, steps=2, verbose=0, return_dict=True)
    probe = np.linspace(-2.0, 2.0, 8 * GLOBAL_BATCH, dtype="float32").reshape(-1, 4)
    probe_dataset = tf.data.Dataset.from_tensor_slices(probe).batch(GLOBAL_BATCH)
    predictions = model.predict(
        multi_worker.with_data_sharding(probe_dataset), verbose=0
    )
    if check_unpatched:
        # steps_per_execution > 1 fails in Keras (keras-team/keras#19246); the
        # fix turns that into a clear error before any step.
        with strategy.scope():
            batched = _build_model(keras, seed=SEED, steps_per_execution=2)
        try:
            batched.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
            record["steps_per_execution_error"] = ""
        except ValueError as e:
            record["steps_per_execution_error"] = str(e)
    saved = multi_worker.save_model(
        model, os.path.join(out_dir, f"{name}.keras"), strategy
    )
    record.update(
        batch_logs=np.array(batch_logs, dtype="float64"),
        epoch_loss=np.array(history.history["loss"], dtype="float64"),
        eval_loss=np.float64(evaluation["loss"]),
        predictions=np.asarray(predictions),
        saved=str(saved or ""),
        replicas=strategy.num_replicas_in_sync,
        **{f"weight_{i}": w.numpy() for i, w in enumerate(model.weights)},
        **{
            f"optimizer_{i}": v.numpy()
            for i, v in enumerate(model.optimizer.variables)
        },
    )
    np.savez(os.path.join(out_dir, f"{name}.npz"), **record)


def _build_model(keras, seed, steps_per_execution=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh", name="hidden"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        loss="mse",
        metrics=["mean_absolute_error"],
        steps_per_execution=steps_per_execution,
    )
    return model


def main(argv):
    mode, out_dir = argv[0], argv[1]
    if mode == "worker":
        index, ports = int(argv[2]), argv[3].split(",")
        os.environ["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                "task": {"type": "worker", "index": index},
            }
        )
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    if mode == "reference":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        from kzoo.training import multi_worker

        multi_worker.enable()  # what `kzoo train` does; a no-op off multi-worker
        _train(tf.distribute.get_strategy(), "single", out_dir)
        _train(
            tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), "mirrored", out_dir
        )
    elif mode == "worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _train(strategy, f"worker{index}", out_dir, check_unpatched=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}; expected 'reference' or 'worker'")


if __name__ == "__main__":
    main(sys.argv[1:])
