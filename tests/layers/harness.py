"""The generic checks every kzoo layer passes, so per-layer tests only test behaviour.

`check_layer` runs: config round trip with every non-default argument, `.keras`
save/load with identical outputs, a `fit` step that changes every trainable weight,
`mixed_bfloat16` (outputs in bfloat16, close to float32 with the same weights), and
two different sequence lengths.
"""

import numpy as np
import keras


def _functional_model(layer, arrays, call, fixed_shapes):
    inputs = []
    for array in arrays:
        shape = list(array.shape[1:])
        if not fixed_shapes and len(shape) >= 2:
            shape[0] = None  # The sequence axis varies.
        inputs.append(keras.Input(shape=tuple(shape), dtype=str(array.dtype)))
    outputs = call(layer, inputs)
    if isinstance(outputs, (tuple, list)):
        outputs = outputs[0]
    return keras.Model(inputs, outputs)


def check_config_round_trip(layer_cls, init_kwargs):
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for name, value in init_kwargs.items():
        assert name in config, f"get_config() forgot `{name}`"
    restored = layer_cls.from_config(config)
    assert restored.get_config() == config
    defaults = layer_cls(**{k: v for k, v in init_kwargs.items() if k in _required(layer_cls)}).get_config()
    for name in init_kwargs:
        if name not in _required(layer_cls):
            assert config[name] != defaults[name], f"test should set `{name}` to a non-default value"


def _required(layer_cls):
    import inspect

    signature = inspect.signature(layer_cls.__init__)
    return {
        name
        for name, parameter in signature.parameters.items()
        if parameter.default is inspect.Parameter.empty and name not in ("self", "kwargs")
    }


def check_layer(
    layer_cls,
    init_kwargs,
    make_inputs,
    tmp_path,
    call=lambda layer, inputs: layer(*inputs),
    fixed_shapes=False,
    lengths=(5, 9),
    bfloat16_atol=0.1,
):
    """Run every generic check; `make_inputs(length)` returns a list of batch-2 arrays."""
    check_config_round_trip(layer_cls, init_kwargs)
    inference_kwargs = dict(init_kwargs)
    if "dropout" in inference_kwargs:
        inference_kwargs["dropout"] = 0.0  # Deterministic outputs for the equality checks.

    # .keras save/load gives identical outputs.
    arrays = make_inputs(lengths[0])
    model = _functional_model(layer_cls(**inference_kwargs), arrays, call, fixed_shapes)
    expected = model.predict(arrays, verbose=0)
    path = str(tmp_path / "layer.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(arrays, verbose=0), expected)

    # Variable sequence lengths: the same model takes another length.
    if not fixed_shapes:
        other = model.predict(make_inputs(lengths[1]), verbose=0)
        assert other.shape[1] == lengths[1]
        assert np.all(np.isfinite(other))

    # One fit step changes every trainable weight.
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(arrays, np.random.default_rng(0).normal(size=expected.shape), epochs=1, batch_size=2, verbose=0)
    for weight, old in zip(model.trainable_weights, before):
        assert not np.allclose(weight.numpy(), old), f"fit did not change {weight.path}"

    # mixed_bfloat16: bfloat16 outputs close to the float32 outputs of the same weights.
    float_model = _functional_model(layer_cls(**inference_kwargs), arrays, call, fixed_shapes)
    mixed_model = _functional_model(
        layer_cls(**inference_kwargs, dtype="mixed_bfloat16"), arrays, call, fixed_shapes
    )
    mixed_model.set_weights(float_model.get_weights())
    mixed = mixed_model(arrays)
    assert keras.backend.standardize_dtype(mixed.dtype) == "bfloat16"
    np.testing.assert_allclose(
        np.asarray(keras.ops.cast(mixed, "float32")), float_model.predict(arrays, verbose=0), atol=bfloat16_atol
    )
