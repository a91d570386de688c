import numpy as np
import pytest

from kzoo.layers import FeedForward
from tests.layers.harness import check_layer


def test_generic_checks(tmp_path):
    check_layer(
        FeedForward,
        dict(intermediate_dim=12, activation="silu", dropout=0.2, kernel_initializer="he_normal", bias_initializer="ones"),
        make_inputs=lambda length: [np.random.default_rng(5).normal(size=(2, length, 6)).astype("float32")],
        tmp_path=tmp_path,
    )


def test_is_position_wise_dense_relu_dense():
    layer = FeedForward(intermediate_dim=7)
    x = np.random.default_rng(6).normal(size=(2, 3, 4)).astype("float32")
    layer.build(x.shape)
    w1, b1 = [w.numpy() for w in layer.intermediate_dense.weights]
    w2, b2 = [w.numpy() for w in layer.output_dense.weights]
    np.testing.assert_allclose(layer(x), np.maximum(x @ w1 + b1, 0) @ w2 + b2, atol=1e-5)


def test_invalid_intermediate_dim_is_rejected():
    with pytest.raises(ValueError, match="intermediate_dim=-2"):
        FeedForward(intermediate_dim=-2)
