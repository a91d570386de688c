import numpy as np
import pytest

from kzoo.layers import MultiplicativeAttention
from tests.layers.harness import check_layer

RNG = np.random.default_rng(5)


def _x(length, width):
    return RNG.normal(size=(2, length, width)).astype("float32")


def _softmax_where(scores, mask):
    scores = np.where(mask[:, None, :] == 1, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


@pytest.mark.parametrize("score", ["dot", "general"])
def test_generic_checks(tmp_path, score):
    check_layer(
        MultiplicativeAttention,
        dict(score=score, scale=True, kernel_initializer="he_normal"),
        make_inputs=lambda length: [_x(length, 6), _x(length + 2, 6 if score == "dot" else 10)],
        call=lambda layer, inputs: layer(inputs[0], keys=inputs[1]),
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("scale", [False, True])
def test_matches_luong_formulas(scale):
    query, keys = _x(3, 4), _x(6, 7)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6])
    general = MultiplicativeAttention("general", scale=scale)
    context, weights = general(query, keys=keys, keys_mask=mask, return_attention_scores=True)
    scores = query @ np.swapaxes(keys @ general.key_dense.kernel.numpy(), 1, 2) / (2.0 if scale else 1.0)  # sqrt(4)
    expected = _softmax_where(scores, mask)
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    np.testing.assert_allclose(context, expected @ keys, atol=1e-5)
    dot_keys = _x(6, 4)
    _, weights = MultiplicativeAttention("dot", scale=scale)(query, keys=dot_keys, keys_mask=mask,
                                                             return_attention_scores=True)
    expected = _softmax_where(query @ np.swapaxes(dot_keys, 1, 2) / (2.0 if scale else 1.0), mask)
    np.testing.assert_allclose(weights, expected, atol=1e-6)


def test_dot_needs_one_width_and_unknown_scores_are_refused():
    with pytest.raises(ValueError, match="one width"):
        MultiplicativeAttention("dot")(_x(3, 4), keys=_x(5, 6))
    with pytest.raises(ValueError, match="score"):
        MultiplicativeAttention("cosine")
