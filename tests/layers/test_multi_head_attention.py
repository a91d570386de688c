import numpy as np
import keras
import pytest

from kzoo.layers import MultiHeadAttention
from tests.layers.harness import check_layer

RNG = np.random.default_rng(0)


def _x(batch=2, length=6, width=16):
    return RNG.normal(size=(batch, length, width)).astype("float32")


def _copy_from_keras(ours, reference, cross):
    """Load keras.layers.MultiHeadAttention weights into our fused projections."""
    width = reference._query_dense.kernel.shape[0]

    def flat(dense):
        return dense.kernel.numpy().reshape(dense.kernel.shape[0], -1), dense.bias.numpy().reshape(-1)

    (qk, qb), (kk, kb), (vk, vb) = flat(reference._query_dense), flat(reference._key_dense), flat(reference._value_dense)
    if cross:
        ours.query_dense.set_weights([qk, qb])
        ours.key_value_dense.set_weights([np.concatenate([kk, vk], 1), np.concatenate([kb, vb])])
    else:
        ours.query_key_value_dense.set_weights([np.concatenate([qk, kk, vk], 1), np.concatenate([qb, kb, vb])])
    out = reference._output_dense
    ours.output_dense.set_weights([out.kernel.numpy().reshape(-1, width), out.bias.numpy()])


def test_generic_checks(tmp_path):
    check_layer(
        MultiHeadAttention,
        dict(
            num_heads=2,
            key_dim=4,
            output_dim=12,
            dropout=0.1,
            use_bias=False,
            kernel_initializer="he_normal",
            bias_initializer="ones",
        ),
        make_inputs=lambda length: [_x(length=length)],
        call=lambda layer, inputs: layer(inputs[0], use_causal_mask=True),
        tmp_path=tmp_path,
    )


def test_cross_attention_generic_checks(tmp_path):
    check_layer(
        MultiHeadAttention,
        dict(num_heads=4, key_dim=2),
        make_inputs=lambda length: [_x(length=length), _x(length=length + 2, width=10)],
        call=lambda layer, inputs: layer(inputs[0], inputs[1]),
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_equals_keras_multi_head_attention(causal):
    x = _x()
    padding = np.array([[1, 1, 1, 1, 0, 0], [1] * 6])
    reference = keras.layers.MultiHeadAttention(num_heads=4, key_dim=4)
    expected = reference(x, x, value_mask=padding, use_causal_mask=causal)
    ours = MultiHeadAttention(num_heads=4, key_dim=4)
    ours(x)
    _copy_from_keras(ours, reference, cross=False)
    actual = ours(x, value_mask=padding, use_causal_mask=causal)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_cross_attention_equals_keras_multi_head_attention():
    query, value = _x(length=3), _x(length=7, width=10)
    padding = np.array([[1] * 5 + [0] * 2, [1] * 7])
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)
    expected = reference(query, value, value_mask=padding)
    ours = MultiHeadAttention(num_heads=2, key_dim=8)
    ours(query, value)
    _copy_from_keras(ours, reference, cross=True)
    np.testing.assert_allclose(ours(query, value, value_mask=padding), expected, atol=1e-5)


def test_padded_keys_cannot_change_real_outputs():
    layer = MultiHeadAttention(num_heads=2, key_dim=8)
    x = _x()
    padding = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]])
    changed = x.copy()
    changed[0, 3:] = 100.0
    changed[1, 5:] = -7.0
    a = layer(x, value_mask=padding).numpy()
    b = layer(changed, value_mask=padding).numpy()
    np.testing.assert_allclose(a[0, :3], b[0, :3], atol=1e-6)
    np.testing.assert_allclose(a[1, :5], b[1, :5], atol=1e-6)


def test_future_tokens_cannot_change_past_outputs():
    layer = MultiHeadAttention(num_heads=2, key_dim=8)
    x = _x()
    changed = x.copy()
    changed[:, 4:] = RNG.normal(size=changed[:, 4:].shape)
    a = layer(x, use_causal_mask=True).numpy()
    b = layer(changed, use_causal_mask=True).numpy()
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_token_by_token_cache_equals_full_forward():
    layer = MultiHeadAttention(num_heads=2, key_dim=8)
    x = _x(length=7)
    full = layer(x, use_causal_mask=True).numpy()
    cache = np.zeros((2, 2, 2, 7, 8), "float32")
    steps = []
    for t in range(7):
        out, cache = layer(x[:, t : t + 1], cache=cache, cache_index=t, use_causal_mask=True)
        steps.append(out.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # The cache holds exactly the keys and values of the full sequence.
    qkv = layer.query_key_value_dense(x).numpy().reshape(2, 7, 3, 2, 8)
    np.testing.assert_allclose(cache.numpy()[:, 0], qkv[:, :, 1].transpose(0, 2, 1, 3), atol=1e-5)


def test_prefill_then_steps_with_a_longer_cache_equals_full_forward():
    layer = MultiHeadAttention(num_heads=2, key_dim=8)
    x = _x(length=6)
    full = layer(x, use_causal_mask=True).numpy()
    cache = np.zeros((2, 2, 2, 10, 8), "float32")  # Longer than needed: unwritten slots stay hidden.
    prefix, cache = layer(x[:, :4], cache=cache, cache_index=0, use_causal_mask=True)
    rest, cache = layer(x[:, 4:], cache=cache, cache_index=4, use_causal_mask=True)
    np.testing.assert_allclose(np.concatenate([prefix, rest], axis=1), full, atol=1e-5)


def test_cross_attention_cache_equals_direct_call():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    query, value = _x(length=3), _x(length=5, width=12)
    padding = np.array([[1, 1, 1, 0, 0], [1] * 5])
    direct = layer(query, value, value_mask=padding).numpy()
    cache = layer.compute_key_value_cache(value)
    assert tuple(cache.shape) == (2, 2, 2, 5, 4)
    steps = [layer(query[:, t : t + 1], value_mask=padding, cache=cache).numpy() for t in range(3)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), direct, atol=1e-5)


def test_softmax_runs_in_float32_under_mixed_float16():
    layer = MultiHeadAttention(num_heads=1, key_dim=4, dtype="mixed_float16")
    x = _x(length=4, width=4) * 300.0  # Scores far beyond float16's 65504 after scaling.
    out, probabilities = layer(x, use_causal_mask=True, return_attention_scores=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(np.asarray(out, "float32")))
    np.testing.assert_allclose(np.asarray(probabilities, "float32").sum(-1), 1.0, atol=1e-2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_heads=0, key_dim=4), "num_heads=0"),
        (dict(num_heads=2, key_dim=-1), "key_dim=-1"),
        (dict(num_heads=2, key_dim=4, dropout=1.5), "dropout=1.5"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(**kwargs)


def test_cache_index_without_cache_is_rejected():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match="cache_index=3.*without a `cache`"):
        layer(_x(), cache_index=3)


def test_self_attention_cache_without_index_is_rejected():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match="needs `cache_index`"):
        layer(_x(length=1), cache=np.zeros((2, 2, 2, 4, 4), "float32"))


def test_masked_attention_survives_full_int8_quantization():
    """A -1e9 additive mask gives the softmax input a 1e9 range: int8 then erases the scores."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from export.tflite import convert_to_tflite

    layer = MultiHeadAttention(num_heads=2, key_dim=8)
    x = _x(length=8)
    padding = np.ones((2, 8), "float32")
    padding[0, 5:] = 0
    layer(x)

    function = tf.function(
        lambda x, mask: {"y": layer(x, value_mask=mask, use_causal_mask=True)},
        input_signature=[tf.TensorSpec([1, 8, 16], tf.float32, name="x"), tf.TensorSpec([1, 8], tf.float32, name="mask")],
    )

    def configure(converter):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            {"x": _x(length=8)[:1], "mask": padding[i % 2 : i % 2 + 1]} for i in range(16)
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]

    runner = Interpreter(model_content=convert_to_tflite({"step": function.get_concrete_function()}, configure=configure))
    runner = runner.get_signature_runner("step")
    for row in range(2):
        expected = layer(x[row : row + 1], value_mask=padding[row : row + 1], use_causal_mask=True).numpy()
        actual = runner(x=x[row : row + 1], mask=padding[row : row + 1])["y"]
        scale = np.abs(expected).max()
        assert np.abs(actual - expected).max() < 0.1 * scale  # With a -1e9 mask: error ~ scale.
