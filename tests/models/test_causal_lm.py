import numpy as np

from kzoo.models import CausalLM, DecoderBackbone
from tests.models.harness import check_cached_steps_equal_full_forward, check_model, random_ids

VOCAB = 40


def _model(**overrides):
    args = dict(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
                max_sequence_length=24, dropout=0.0)
    return CausalLM(DecoderBackbone(**{**args, **overrides}))


def _inputs(batch, length):
    return {"token_ids": random_ids(batch, length, VOCAB, seed=length), "padding_mask": np.ones((batch, length), "int32")}


def test_generic(tmp_path):
    check_model(_model, _inputs, lambda inputs, model: np.roll(inputs["token_ids"], -1, axis=1), tmp_path)


def test_cached_steps_equal_full_forward():
    model = _model()
    inputs = _inputs(3, 9)
    check_cached_steps_equal_full_forward(model, inputs, inputs, inputs["token_ids"])


def test_future_tokens_cannot_change_past_logits():
    model = _model()
    inputs = _inputs(2, 8)
    changed = dict(inputs, token_ids=inputs["token_ids"].copy())
    changed["token_ids"][:, 5:] = 3
    a, b = model.predict(inputs, verbose=0), model.predict(changed, verbose=0)
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-5)


def test_output_projection_is_tied_to_the_embedding():
    model = _model()
    embedding_weights = model.backbone.token_embedding.embeddings
    assert sum(int(np.prod(w.shape)) for w in model.weights if w is embedding_weights) == VOCAB * 16
    assert model.count_params() == model.backbone.count_params()
