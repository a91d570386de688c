import numpy as np

from kzoo.models import TransformerSeq2Seq
from tests.models.harness import check_cached_steps_equal_full_forward, check_model, random_ids, ragged_mask

VOCAB = 40


def _model(**overrides):
    args = dict(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)
    return TransformerSeq2Seq(**{**args, **overrides})


def _inputs(batch, length):
    return {
        "encoder_token_ids": random_ids(batch, length + 2, VOCAB, seed=length),
        "encoder_padding_mask": ragged_mask(batch, length + 2),
        "decoder_token_ids": random_ids(batch, length, VOCAB, seed=length + 1),
        "decoder_padding_mask": np.ones((batch, length), "int32"),
    }


def test_generic(tmp_path):
    check_model(_model, _inputs, lambda inputs, model: np.roll(inputs["decoder_token_ids"], -1, axis=1), tmp_path)


def test_cached_steps_equal_full_forward_on_ragged_sources():
    model = _model()
    inputs = _inputs(3, 7)
    check_cached_steps_equal_full_forward(model, inputs, inputs, inputs["decoder_token_ids"])


def test_padded_source_tokens_cannot_change_logits():
    model = _model()
    inputs = _inputs(2, 6)
    inputs["encoder_padding_mask"] = np.array([[1] * 4 + [0] * 4, [1] * 8], "int32")
    changed = dict(inputs, encoder_token_ids=inputs["encoder_token_ids"].copy())
    changed["encoder_token_ids"][0, 4:] = 9
    np.testing.assert_allclose(model.predict(inputs, verbose=0), model.predict(changed, verbose=0), atol=1e-5)


def test_published_vaswani_configurations_have_exact_parameter_counts():
    # Table 3 rounds these to 65M and 213M. Ours are exact for the architecture the
    # paper describes: one shared 37,000 x d embedding (also the output projection),
    # biases on every projection, post-layer-norm, no final norm. The paper does not
    # say how it counted; the difference is within its rounding to two figures.
    hidden, ff, vocab = 512, 2048, 37000
    attention = 4 * (hidden * hidden + hidden)
    feed_forward = hidden * ff + ff + ff * hidden + hidden
    expected = vocab * hidden + 6 * (attention + feed_forward + 4 * hidden) + 6 * (2 * attention + feed_forward + 6 * hidden)
    assert expected == 63_082_496
    # Building transformer_big (214,245,376) is in tests/test_presets.py (slow).
    assert _model(vocabulary_size=vocab, num_layers=6, num_heads=8, hidden_dim=hidden, intermediate_dim=ff).count_params() == expected


MARIAN_OPTIONS = dict(num_decoder_layers=1, activation="swish", scale_embedding=False, shared_embeddings=False,
                      target_vocabulary_size=VOCAB + 7, output_bias=True, position_encoding="sinusoidal_concat",
                      layer_norm_epsilon=1e-5)


def test_every_checkpoint_option_round_trips_trains_and_caches(tmp_path):
    """Marian's options (separate vocabularies, a logits bias, one decoder block, ...) all at once."""
    check_model(lambda: _model(**MARIAN_OPTIONS), _inputs,
                lambda inputs, model: np.roll(inputs["decoder_token_ids"], -1, axis=1), tmp_path)
    model = _model(**MARIAN_OPTIONS)
    inputs = _inputs(3, 7)
    assert model.predict(inputs, verbose=0).shape == (3, 7, VOCAB + 7) and len(model.decoder_blocks) == 1
    assert model.decoded_vocabulary_size == VOCAB + 7 and model.source_embedding is not model.embedding
    check_cached_steps_equal_full_forward(model, inputs, inputs, inputs["decoder_token_ids"])
    description = model.export_description(max_length=9)
    assert description.state["cache_0"]["shape"] == [-1, 2, 2, 9, 8]
    assert [name for name in description.state if "cache" in name] == ["cache_0", "cross_cache_0"]  # One block.


def test_inconsistent_vocabulary_options_are_refused():
    import pytest

    with pytest.raises(ValueError, match="expected None \\(or vocabulary_size\\) with shared_embeddings=True"):
        _model(target_vocabulary_size=VOCAB + 1)
    with pytest.raises(ValueError, match="position_encoding='alibi'"):
        _model(position_encoding="alibi")
