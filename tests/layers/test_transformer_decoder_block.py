import numpy as np
import keras_hub
import pytest

from kzoo.layers import TransformerDecoderBlock
from tests.layers.harness import check_layer

RNG = np.random.default_rng(2)


def _x(length=6, width=16, batch=2):
    return RNG.normal(size=(batch, length, width)).astype("float32")


def test_generic_checks_decoder_only(tmp_path):
    check_layer(
        TransformerDecoderBlock,
        dict(
            num_heads=2,
            intermediate_dim=24,
            dropout=0.1,
            activation="gelu_approximate",
            layer_norm_epsilon=1e-6,
            normalize_first=True,
            kernel_initializer="he_normal",
            bias_initializer="ones",
        ),
        make_inputs=lambda length: [_x(length)],
        tmp_path=tmp_path,
    )


def test_generic_checks_with_cross_attention(tmp_path):
    check_layer(
        TransformerDecoderBlock,
        dict(num_heads=4, intermediate_dim=16),
        make_inputs=lambda length: [_x(length), _x(length + 3)],
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_equals_keras_hub_transformer_decoder(normalize_first):
    decoder, encoder = _x(), _x(length=8)
    decoder_padding = np.array([[1] * 4 + [0] * 2, [1] * 6])
    encoder_padding = np.array([[1] * 5 + [0] * 3, [1] * 8])
    reference = keras_hub.layers.TransformerDecoder(
        intermediate_dim=32, num_heads=4, normalize_first=normalize_first
    )
    expected = reference(
        decoder, encoder, decoder_padding_mask=decoder_padding, encoder_padding_mask=encoder_padding
    )
    ours = TransformerDecoderBlock(num_heads=4, intermediate_dim=32, normalize_first=normalize_first)
    ours(decoder, encoder)
    ours.load_keras_hub_weights(reference)
    actual = ours(decoder, encoder, decoder_padding_mask=decoder_padding, encoder_padding_mask=encoder_padding)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_equals_keras_hub_decoder_only():
    x = _x()
    reference = keras_hub.layers.TransformerDecoder(intermediate_dim=32, num_heads=2, normalize_first=True)
    expected = reference(x)
    ours = TransformerDecoderBlock(num_heads=2, intermediate_dim=32, normalize_first=True)
    ours(x)
    ours.load_keras_hub_weights(reference)
    np.testing.assert_allclose(ours(x), expected, atol=1e-5)


def test_future_tokens_cannot_change_past_outputs():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
    x, memory = _x(), _x(length=4)
    changed = x.copy()
    changed[:, 3:] = RNG.normal(size=changed[:, 3:].shape)
    a, b = block(x, memory).numpy(), block(changed, memory).numpy()
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_padded_encoder_positions_cannot_change_outputs():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
    x, memory = _x(), _x(length=5)
    padding = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]])
    changed = memory.copy()
    changed[0, 2:] = 9.0
    changed[1, 4:] = -9.0
    a = block(x, memory, encoder_padding_mask=padding).numpy()
    b = block(x, changed, encoder_padding_mask=padding).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_decoding_equals_full_forward_with_cross_attention(normalize_first):
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=32, normalize_first=normalize_first)
    x, memory = _x(length=7), _x(length=5)
    padding = np.array([[1, 1, 1, 0, 0], [1] * 5])
    full = block(x, memory, encoder_padding_mask=padding).numpy()
    self_cache = np.zeros((2, 2, 2, 7, 8), "float32")
    cross_cache = block.compute_cross_attention_cache(memory)
    steps = []
    for t in range(7):
        out, self_cache = block(
            x[:, t : t + 1],
            encoder_padding_mask=padding,
            self_attention_cache=self_cache,
            cache_index=t,
            cross_attention_cache=cross_cache,
        )
        steps.append(out.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_cached_decoding_equals_full_forward_decoder_only():
    block = TransformerDecoderBlock(num_heads=4, intermediate_dim=32, normalize_first=True)
    x = _x(length=6)
    full = block(x).numpy()
    cache = np.zeros((2, 2, 4, 6, 4), "float32")
    prefix, cache = block(x[:, :3], self_attention_cache=cache, cache_index=0)
    steps = [prefix.numpy()]
    for t in range(3, 6):
        out, cache = block(x[:, t : t + 1], self_attention_cache=cache, cache_index=t)
        steps.append(out.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_cross_attention_arguments_on_a_decoder_only_block_are_rejected():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=8)
    block(_x())
    with pytest.raises(ValueError, match="built without cross-attention"):
        block(_x(), _x())


def test_cache_index_without_cache_is_rejected():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=8)
    block(_x())
    with pytest.raises(ValueError, match="cache_index=2"):
        block(_x(length=1), cache_index=2)
