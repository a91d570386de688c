import numpy as np
import pytest

from kzoo.generation import generate
from kzoo.models import CausalLM, DecoderBackbone, GRUSeq2Seq, TransformerSeq2Seq

VOCAB = 30
END = 5


def _causal_lm():
    return CausalLM(DecoderBackbone(VOCAB, 2, 2, 16, 32, max_sequence_length=24, dropout=0.0))


def _ragged_prompts():
    ids = np.random.default_rng(0).integers(6, VOCAB, size=(3, 6)).astype("int32")
    mask = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4], "int32")
    return {"token_ids": ids * mask, "padding_mask": mask}


def _sources():
    ids = np.random.default_rng(1).integers(6, VOCAB, size=(3, 7)).astype("int32")
    mask = np.array([[1] * 7, [1] * 3 + [0] * 4, [1] * 5 + [0] * 2], "int32")
    return {"encoder_token_ids": ids * mask, "encoder_padding_mask": mask}


FAMILIES = {
    "causal_lm": (_causal_lm, _ragged_prompts, {}),
    "transformer": (lambda: TransformerSeq2Seq(VOCAB, 2, 2, 16, 32, dropout=0.0), _sources, {"start_token_id": 1}),
    "gru": (lambda: GRUSeq2Seq(VOCAB, 8, 16, dropout=0.0), _sources, {"start_token_id": 1}),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    import keras

    keras.utils.set_random_seed(7)
    make_model, make_inputs, extra = FAMILIES[request.param]
    return make_model(), make_inputs(), extra


def test_cached_greedy_equals_uncached_greedy_on_ragged_batches(family):
    model, inputs, extra = family
    cached = generate(model, inputs, 10, **extra)
    uncached = generate(model, inputs, 10, use_cache=False, **extra)
    np.testing.assert_array_equal(cached, uncached)
    assert cached.shape == (3, 10)


def test_beam_width_one_equals_greedy(family):
    model, inputs, extra = family
    np.testing.assert_array_equal(
        generate(model, inputs, 8, strategy="beam", num_beams=1, **extra), generate(model, inputs, 8, **extra)
    )


def test_top_k_one_equals_greedy(family):
    model, inputs, extra = family
    np.testing.assert_array_equal(
        generate(model, inputs, 8, strategy="top_k", top_k=1, seed=3, **extra), generate(model, inputs, 8, **extra)
    )


def test_sampling_with_the_same_seed_repeats(family):
    model, inputs, extra = family
    first = generate(model, inputs, 8, strategy="top_p", top_p=0.95, temperature=1.5, seed=11, **extra)
    again = generate(model, inputs, 8, strategy="top_p", top_p=0.95, temperature=1.5, seed=11, **extra)
    np.testing.assert_array_equal(first, again)


def test_rows_stop_changing_after_their_end_token(family):
    model, inputs, extra = family
    greedy = generate(model, inputs, 8, **extra)
    end = int(greedy[0, 2])  # A token row 0 emits, used as the end token.
    ended = generate(model, inputs, 8, end_token_id=end, pad_token_id=0, **extra)
    for row in range(len(ended)):
        hits = np.flatnonzero(ended[row] == end)
        if hits.size:
            assert np.all(ended[row, hits[0] + 1 :] == 0)
            np.testing.assert_array_equal(ended[row, : hits[0] + 1], greedy[row, : hits[0] + 1])
    assert ended[0, np.flatnonzero(greedy[0] == end)[0]] == end


def test_ragged_prompts_decode_like_each_prompt_alone():
    model = _causal_lm()
    inputs = _ragged_prompts()
    batched = generate(model, inputs, 6)
    for row in range(3):
        length = int(inputs["padding_mask"][row].sum())
        alone = {"token_ids": inputs["token_ids"][row : row + 1, :length], "padding_mask": np.ones((1, length), "int32")}
        np.testing.assert_array_equal(generate(model, alone, 6)[0], batched[row])


class _MarkovModel:
    """A hand-made 'model' where greedy is myopic: logits depend only on the previous token.

    From the start token (1): A (2) has p=0.6, B (3) p=0.4. After A every token of
    6..13 has p=0.125 (best sequence through A: 0.6 * 0.125). After B the end token
    (4) has p=0.9 (0.4 * 0.9 = 0.36). Greedy takes A; beam search finds B, end.
    """

    vocabulary_size = decoded_vocabulary_size = 14
    max_sequence_length = 8

    def __init__(self):
        import tensorflow as tf

        table = np.full((14, 14), 1e-6)
        table[1, 2], table[1, 3] = 0.6, 0.4
        table[2, 6:14] = 0.125
        table[3, 4], table[3, 6] = 0.9, 0.1
        table[4, 4] = 1.0
        table[6:14, 4] = 1.0
        self.log_table = tf.constant(np.log(table / table.sum(1, keepdims=True)), tf.float32)

    def start_decoding(self, inputs, max_length):
        import tensorflow as tf

        return {"unused": tf.zeros((tf.shape(inputs["encoder_token_ids"])[0], 1))}

    def decode_step(self, token_ids, state, index):
        import tensorflow as tf

        return tf.gather(self.log_table, token_ids), state


def test_beam_search_beats_a_myopic_greedy_choice():
    model = _MarkovModel()
    inputs = {"encoder_token_ids": np.ones((1, 3), "int32"), "encoder_padding_mask": np.ones((1, 3), "int32")}
    greedy = generate(model, inputs, 3, start_token_id=1, end_token_id=4)
    beam = generate(model, inputs, 3, strategy="beam", num_beams=3, start_token_id=1, end_token_id=4)
    assert greedy[0, 0] == 2
    np.testing.assert_array_equal(beam[0], [3, 4, 0])


def test_top_p_keeps_only_the_nucleus():
    model = _MarkovModel()  # From the start token: p(A)=0.6, p(B)=0.4, the rest ~1e-6.
    inputs = {"encoder_token_ids": np.ones((64, 3), "int32"), "encoder_padding_mask": np.ones((64, 3), "int32")}
    first = generate(model, inputs, 1, strategy="top_p", top_p=0.5, seed=0, start_token_id=1)
    assert set(first[:, 0]) == {2}  # A alone covers p >= 0.5.
    both = generate(model, inputs, 1, strategy="top_p", top_p=0.95, seed=0, start_token_id=1)
    assert set(both[:, 0]) == {2, 3}  # A and B; never the ~1e-6 tail.


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_new_tokens=0), "max_new_tokens=0"),
        (dict(max_new_tokens=30), "more than the 24 this model decodes"),
        (dict(max_new_tokens=3, end_token_id=VOCAB), f"end_token_id={VOCAB}"),
        (dict(max_new_tokens=3, strategy="nucleus"), "strategy='nucleus'"),
    ],
)
def test_bad_requests_fail_with_a_clear_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(_causal_lm(), _ragged_prompts(), **kwargs)


def test_a_second_call_with_the_same_options_reuses_the_traced_loop():
    from kzoo.generation import _compiled_loops

    model = _causal_lm()
    inputs = _ragged_prompts()
    first = generate(model, inputs, 4)
    loop = _compiled_loops[model]
    assert len(loop) == 1
    (function, _), = loop.values()
    traces = function.experimental_get_tracing_count()
    np.testing.assert_array_equal(generate(model, inputs, 4), first)
    assert function.experimental_get_tracing_count() == traces  # No retracing for the same shapes.
