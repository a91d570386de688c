import numpy as np

from kzoo.models import GRUSeq2Seq
from tests.models.harness import check_cached_steps_equal_full_forward, check_model, random_ids, ragged_mask

VOCAB = 40


def _model(**overrides):
    return GRUSeq2Seq(**{**dict(vocabulary_size=VOCAB, embedding_dim=12, hidden_dim=16, dropout=0.0), **overrides})


def _inputs(batch, length):
    return {
        "encoder_token_ids": random_ids(batch, length + 1, VOCAB, seed=length),
        "encoder_padding_mask": ragged_mask(batch, length + 1),
        "decoder_token_ids": random_ids(batch, length, VOCAB, seed=length + 1),
        "decoder_padding_mask": np.ones((batch, length), "int32"),
    }


def test_generic(tmp_path):
    check_model(_model, _inputs, lambda inputs, model: np.roll(inputs["decoder_token_ids"], -1, axis=1), tmp_path)


def test_cached_steps_equal_full_forward_on_ragged_sources():
    model = _model()
    inputs = _inputs(3, 6)
    check_cached_steps_equal_full_forward(model, inputs, inputs, inputs["decoder_token_ids"])


def test_padded_source_tokens_cannot_change_logits():
    model = _model()
    inputs = _inputs(2, 6)
    inputs["encoder_padding_mask"] = np.array([[1] * 4 + [0] * 3, [1] * 7], "int32")
    changed = dict(inputs, encoder_token_ids=inputs["encoder_token_ids"].copy())
    changed["encoder_token_ids"][0, 4:] = 9
    np.testing.assert_allclose(model.predict(inputs, verbose=0), model.predict(changed, verbose=0), atol=1e-5)
