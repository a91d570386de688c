"""`kzoo.models.attention_weights`: the weights each family's attention layers compute in the model's forward pass."""

import numpy as np
import pytest
import tensorflow as tf

import kzoo
from kzoo.layers import AdditiveAttention, MultiHeadAttention, MultiplicativeAttention, record_attention
from kzoo.models import attention_weights
from kzoo.models.gru_seq2seq import ATTENTIONS

B, T, S, V = 2, 6, 7, 40


def _mask(length, real):
    return np.array([[1] * n + [0] * (length - n) for n in real], "int32")


def _ids(shape, seed):
    return np.random.default_rng(seed).integers(3, V, size=shape).astype("int32")


def _seq2seq_inputs():
    return {"encoder_token_ids": _ids((B, S), 0), "encoder_padding_mask": _mask(S, (S, 4)),
            "decoder_token_ids": _ids((B, T), 1), "decoder_padding_mask": _mask(T, (T, 5))}


CASES = {
    "classifier_tiny": (dict(vocabulary_size=V, max_sequence_length=16),
                        lambda: {"token_ids": _ids((B, T), 0), "segment_ids": np.zeros((B, T), "int32"),
                                 "padding_mask": _mask(T, (T, 4))}),
    "causal_lm_tiny": (dict(vocabulary_size=V), lambda: {"token_ids": _ids((B, T), 0), "padding_mask": _mask(T, (T, 4))}),
    "transformer_tiny": (dict(vocabulary_size=V), _seq2seq_inputs),
    "gru_tiny": (dict(vocabulary_size=V), _seq2seq_inputs),
    "vit_tiny": ({}, lambda: {"images": np.random.default_rng(0).random((B, 8, 8, 1)).astype("float32")}),
}


def _attention_layers(model):
    return [layer for layer in model._flatten_layers()
            if isinstance(layer, (MultiHeadAttention, AdditiveAttention, MultiplicativeAttention))]


def _scores_returned_by_the_layers(model, inputs):
    """Each attention layer's own `return_attention_scores` output in a forward pass, by layer path."""
    returned = {}
    for layer in _attention_layers(model):
        original = layer.call

        def call(*args, _layer=layer, _original=original, **kwargs):
            kwargs["return_attention_scores"] = True
            *outputs, scores = _original(*args, **kwargs)
            returned[_layer.path] = np.asarray(scores)
            return outputs[0] if len(outputs) == 1 else tuple(outputs)

        layer.call = call
    try:
        model(inputs, training=False)
    finally:
        for layer in _attention_layers(model):
            del layer.call
    return returned


@pytest.mark.parametrize("preset", sorted(CASES))
def test_each_layers_weights_equal_what_the_layer_itself_returns(preset):
    options, make_inputs = CASES[preset]
    model = kzoo.create(preset, **options)
    inputs = make_inputs()
    recorded = attention_weights(model, inputs)
    assert list(recorded) and set(recorded) == {layer.path for layer in _attention_layers(model)}
    returned = _scores_returned_by_the_layers(model, inputs)
    for name, weights in recorded.items():
        np.testing.assert_allclose(weights, returned[name], atol=1e-7, err_msg=name)
        np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5, err_msg=name)


def test_masks_show_in_the_weights():
    options, make_inputs = CASES["transformer_tiny"]
    recorded = attention_weights(kzoo.create("transformer_tiny", **options), make_inputs())
    decoder_self = [w for name, w in recorded.items() if "decoder" in name and "self_attention" in name]
    cross = [w for name, w in recorded.items() if "cross_attention" in name]
    encoder_self = [w for name, w in recorded.items() if "encoder" in name and "self_attention" in name]
    assert decoder_self and cross and encoder_self
    # Rows of padded queries are left out: their outputs are never read.
    for weights in decoder_self:  # [B, H, T, T]: nothing after the query's own position (look-ahead mask).
        look_ahead = np.triu(np.ones((T, T)), k=1)[None]
        assert np.all(look_ahead * weights[0] < 1e-9) and np.all((look_ahead * weights[1])[:, :5] < 1e-9)
    for weights in cross + encoder_self:  # The second source has 4 real tokens: keys 4.. get none (below 1e-9: see mask_scores).
        assert weights.shape[-1] == S and np.all(weights[1, :, :4, 4:] < 1e-9)
    gru = attention_weights(kzoo.create("gru_tiny", **CASES["gru_tiny"][0]), _seq2seq_inputs())
    (additive,) = gru.values()
    assert additive.shape == (B, T, S) and np.all(additive[1, :5, 4:] < 1e-9)


def test_traced_calls_record_nothing_and_the_block_closes():
    options, make_inputs = CASES["classifier_tiny"]
    model = kzoo.create("classifier_tiny", **options)
    inputs = make_inputs()
    with record_attention() as recording:
        tf.function(lambda batch: model(batch, training=False))(inputs)
    assert recording.weights == {}
    with record_attention() as recording:
        pass
    model(inputs, training=False)  # Outside any block: nothing is kept anywhere.
    assert recording.weights == {}


@pytest.mark.parametrize("attention", [name for name in ATTENTIONS if name != "none"])
def test_each_gru_wiring_records_the_weights_its_decoding_steps_use(attention):
    """The full pass's [B, T, S] equals the weights recorded step by step by cached decoding (a separate path)."""
    model = kzoo.create("gru_tiny", vocabulary_size=V, attention=attention)
    inputs = _seq2seq_inputs()
    (full,) = attention_weights(model, inputs).values()
    state = model.start_decoding(inputs, max_length=T)
    with record_attention() as recording:
        for t in range(T):
            _, state = model.decode_step(inputs["decoder_token_ids"][:, t : t + 1], state, t)
    (stepped,) = recording.weights.values()  # [T, B, 1, S]: one call per step.
    np.testing.assert_allclose(full, np.transpose(stepped[:, :, 0], (1, 0, 2)), atol=1e-6)
    assert full.shape == (B, T, S) and np.all(full[1, :, 4:] < 1e-9)
    np.testing.assert_allclose(full.sum(-1), 1.0, atol=1e-5)
    assert attention_weights(kzoo.create("gru_tiny", vocabulary_size=V, attention="none"), inputs) == {}
