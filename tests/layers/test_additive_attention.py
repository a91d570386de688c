import numpy as np
import pytest

from kzoo.layers import AdditiveAttention
from tests.layers.harness import check_layer

RNG = np.random.default_rng(4)


def _x(length, width):
    return RNG.normal(size=(2, length, width)).astype("float32")


def test_generic_checks(tmp_path):
    check_layer(
        AdditiveAttention,
        dict(units=8, kernel_initializer="he_normal"),
        make_inputs=lambda length: [_x(length, 6), _x(length + 2, 10)],
        call=lambda layer, inputs: layer(inputs[0], keys=inputs[1]),
        tmp_path=tmp_path,
    )


def test_matches_bahdanau_formula():
    layer = AdditiveAttention(units=5)
    query, keys = _x(3, 4), _x(6, 7)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6])
    context, weights = layer(query, keys=keys, keys_mask=mask, return_attention_scores=True)
    wq, bq = layer.query_dense.kernel.numpy(), layer.query_dense.bias.numpy()
    wk, v = layer.key_dense.kernel.numpy(), layer.score_dense.kernel.numpy()[:, 0]
    scores = np.tanh((query @ wq + bq)[:, :, None] + (keys @ wk)[:, None]) @ v  # [B, T, S]
    scores = np.where(mask[:, None, :] == 1, scores, -np.inf)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    np.testing.assert_allclose(context, expected @ keys, atol=1e-5)


def test_projected_keys_computed_once_give_the_same_context():
    layer = AdditiveAttention(units=5)
    query, keys = _x(3, 4), _x(6, 7)
    direct = layer(query, keys=keys).numpy()
    cached = layer(query, keys=keys, projected_keys=layer.project_keys(keys)).numpy()
    np.testing.assert_allclose(cached, direct, atol=1e-6)


def test_invalid_units_are_rejected():
    with pytest.raises(ValueError, match="units=0"):
        AdditiveAttention(units=0)
