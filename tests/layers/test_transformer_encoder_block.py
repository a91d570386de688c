import numpy as np
import keras_hub
import pytest

from kzoo.layers import TransformerEncoderBlock
from tests.layers.harness import check_layer

RNG = np.random.default_rng(1)


def _x(length=6, width=16):
    return RNG.normal(size=(2, length, width)).astype("float32")


def test_generic_checks(tmp_path):
    check_layer(
        TransformerEncoderBlock,
        dict(
            num_heads=2,
            intermediate_dim=24,
            dropout=0.1,
            activation="gelu",
            layer_norm_epsilon=1e-6,
            normalize_first=True,
            kernel_initializer="he_normal",
            bias_initializer="ones",
        ),
        make_inputs=lambda length: [_x(length)],
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_equals_keras_hub_transformer_encoder(normalize_first):
    x = _x()
    padding = np.array([[1, 1, 1, 1, 0, 0], [1] * 6])
    reference = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=4, activation="gelu", normalize_first=normalize_first
    )
    expected = reference(x, padding_mask=padding)
    ours = TransformerEncoderBlock(num_heads=4, intermediate_dim=32, activation="gelu", normalize_first=normalize_first)
    ours(x)
    ours.load_keras_hub_weights(reference)
    np.testing.assert_allclose(ours(x, padding_mask=padding), expected, atol=1e-5)


def test_padded_positions_cannot_change_real_outputs():
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=32)
    x = _x()
    padding = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]])
    changed = x.copy()
    changed[0, 3:] = 50.0
    changed[1, 5] = -3.0
    a, b = block(x, padding_mask=padding).numpy(), block(changed, padding_mask=padding).numpy()
    np.testing.assert_allclose(a[0, :3], b[0, :3], atol=1e-6)
    np.testing.assert_allclose(a[1, :5], b[1, :5], atol=1e-6)


def test_width_not_divisible_by_heads_is_rejected():
    with pytest.raises(ValueError, match="multiple of num_heads=3.*hidden_dim=16"):
        TransformerEncoderBlock(num_heads=3, intermediate_dim=8)(_x())


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="activation='mish'"):
        TransformerEncoderBlock(num_heads=2, intermediate_dim=8, activation="mish")
