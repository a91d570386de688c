"""The numpy decoding loop: sampling rules, seeds, beam search limits, and their agreement with greedy."""

import numpy as np
import pytest

from kzoo.runtime import decoding, load
from tests.runtime import bundles as test_bundles


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    folder, reference = test_bundles.bundles(tmp_path_factory)["translator"]
    source = {"encoder_token_ids": reference["encoder_token_ids"], "encoder_padding_mask": reference["encoder_padding_mask"]}
    return load(folder), source, np.array(reference["greedy_tokens"])


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    folder, reference = test_bundles.bundles(tmp_path_factory)["lm"]
    prompts = {"token_ids": reference["token_ids"], "padding_mask": reference["padding_mask"]}
    return load(folder), prompts, np.array(reference["greedy_tokens"])


def test_sample_draws_only_from_the_top_k_tokens_in_proportion():
    probabilities = np.array([0.5, 0.3, 0.15, 0.05])
    logits = np.log(np.tile(probabilities, (4000, 1)))
    drawn = decoding.sample(logits, np.random.default_rng(0), top_k=2)
    assert set(np.unique(drawn)) == {0, 1}
    assert abs(np.mean(drawn == 0) - 0.5 / 0.8) < 0.03


def test_sample_top_p_keeps_the_token_that_crosses_p():
    logits = np.log(np.tile([0.5, 0.3, 0.15, 0.05], (4000, 1)))
    drawn = decoding.sample(logits, np.random.default_rng(1), top_p=0.6)
    assert set(np.unique(drawn)) == {0, 1}  # 0.5 <= 0.6 is kept, and 0.8 is the first sum past it.
    drawn = decoding.sample(logits, np.random.default_rng(1), top_p=0.45)
    assert set(np.unique(drawn)) == {0}


def test_top_indices_equal_a_stable_full_sort_ties_and_infinities_included():
    rng = np.random.default_rng(0)
    for trial in range(200):
        scores = rng.normal(size=(3, 2, int(rng.integers(20, 200)))).astype("float32")
        if trial % 2:
            scores = np.round(scores, 1)  # Many ties, some at the k-th score.
        scores[..., rng.integers(0, scores.shape[-1], 8)] = -np.inf
        k = int(rng.integers(1, 9))
        expected = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
        np.testing.assert_array_equal(decoding._top_indices(scores, k), expected)


def test_temperature_sharpens_and_flattens():
    logits = np.log(np.tile([0.6, 0.4], (4000, 1)))
    cold = decoding.sample(logits, np.random.default_rng(2), temperature=0.1)
    hot = decoding.sample(logits, np.random.default_rng(2), temperature=10.0)
    assert np.mean(cold == 0) > 0.95 and 0.45 < np.mean(hot == 0) < 0.6


def test_top_k_1_and_a_tiny_top_p_equal_greedy(translator, lm):
    for model, inputs, greedy in (translator, lm):
        count = greedy.shape[1]
        np.testing.assert_array_equal(model.generate_ids(inputs, count, strategy="top_k", top_k=1, seed=3), greedy)
        np.testing.assert_array_equal(model.generate_ids(inputs, count, strategy="top_p", top_p=1e-6, seed=3), greedy)


def test_decode_step_reorders_its_cache_by_beam_parents_and_steps_rows_at_their_own_positions(translator):
    model, source, greedy = translator
    backend, layout = model.backend, model.layout
    state = decoding.start_state(backend, layout, source, len(greedy))
    start = np.full((len(greedy), 1), model.special_tokens["start"], "int32")
    path = np.concatenate([start, greedy], axis=1)
    _, state = decoding.step(backend, layout, path[:, :3], state, np.zeros(len(greedy), "int32"))
    parents = np.roll(np.arange(len(greedy), dtype="int32"), 1)
    positions = np.arange(len(greedy), dtype="int32") % 3
    logits, after = decoding.step(backend, layout, path[parents, 3:4], state, positions, parents)
    # The same rows, gathered here first: what the graph does inside must equal it.
    gathered = dict(state, **{name: state[name][parents] for name in layout["updated"]})
    expected, expected_after = decoding.step(backend, layout, path[parents, 3:4], gathered, positions)
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    for name in layout["updated"]:
        np.testing.assert_allclose(after[name], expected_after[name], atol=1e-5)
    # A row stepped at position 0 again sees only the token it writes there, whatever its cache held.
    fresh = decoding.start_state(backend, layout, source, len(greedy))
    alone, _ = decoding.step(backend, layout, path[parents, 3:4], fresh, np.zeros(len(greedy), "int32"))
    rows = positions == 0
    np.testing.assert_allclose(logits[rows], alone[rows], atol=1e-5)


def test_one_beam_equals_greedy(translator):
    model, source, greedy = translator
    np.testing.assert_array_equal(model.generate_ids(source, strategy="beam", num_beams=1), greedy)


def test_sampling_is_reproducible_with_a_seed_and_varies_without(lm):
    model, prompts, _ = lm
    options = dict(strategy="top_p", top_p=0.95, temperature=2.0)
    first = model.generate_ids(prompts, 12, seed=7, **options)
    np.testing.assert_array_equal(first, model.generate_ids(prompts, 12, seed=7, **options))
    others = [model.generate_ids(prompts, 12, seed=seed, **options) for seed in (8, 9)]
    assert any(not np.array_equal(first, other) for other in others)


def test_rows_stop_after_their_end_token(translator):
    model, source, _ = translator
    end, pad = model.special_tokens["end"], model.special_tokens["pad"]
    tokens = model.generate_ids(source, 20, strategy="top_k", top_k=50, temperature=5.0, seed=0)
    for row in tokens:
        if end in row.tolist():
            after = row[row.tolist().index(end) + 1 :]
            assert np.all(after == pad)


class _TableBackend:
    """A decode step whose next-token log-probabilities depend only on the input token."""

    parts = ["decode_step"]

    def __init__(self, table):
        self.table = np.log(np.asarray(table, "float32"))

    def input_names(self, part):
        return ["token_ids", "positions", "h"]

    def run(self, part, feeds):
        return {"logits": self.table[np.asarray(feeds["token_ids"])], "next_h": feeds["h"]}


def test_beam_search_ranks_finished_hypotheses_with_the_length_penalty():
    # Tokens: 0 pad, 1 start, 2 end, 3 "a". After start: end 0.4, a 0.6; after a: end 0.5, a 0.5.
    tiny = 1e-9
    backend = _TableBackend([[0.25] * 4, [tiny, tiny, 0.4, 0.6], [0.25] * 4, [tiny, tiny, 0.5, 0.5]])
    layout = {"state": {"h": {"shape": [-1, 1], "dtype": "float32", "source": "zeros"}}, "updated": ["h"]}
    prompt = {"token_ids": np.array([[1]]), "padding_mask": np.array([[1]])}

    def run(**options):
        options = decoding.DecodingOptions(end_token_id=2, **options)
        return decoding.generate(backend, layout, prompt, 3, 4, options)[0].tolist()

    assert run() == [3, 2, 0]  # greedy: a (0.6), then end (first of a tie)
    # Log-probabilities alone: [end] (0.4) beats [a, end] (0.3).
    assert run(strategy="beam", num_beams=2, length_penalty=0.0) == [2, 0, 0]
    # GNMT alpha 2 divides by ((5 + length) / 6) ** 2: [a, end] -1.20 / 1.36 = -0.88 beats [end] -0.92.
    assert run(strategy="beam", num_beams=2, length_penalty=2.0) == [3, 2, 0]


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(strategy="beam", num_beams=0), "expected a positive integer. Received: num_beams=0"),
        (dict(strategy="top_k"), "expected a positive integer. Received: top_k=None"),
        (dict(strategy="top_p", top_p=1.5), r"expected a float in \(0, 1\]. Received: top_p=1.5"),
        (dict(temperature=0.0), "expected a positive number. Received: temperature=0.0"),
    ],
)
def test_bad_decoding_options_fail_with_one_sentence(translator, options, match):
    model, source, _ = translator
    with pytest.raises(ValueError, match=match):
        model.generate_ids(source, 4, **options)


def _table_run(table, new_tokens=3, **options):
    backend = _TableBackend(table)
    layout = {"state": {"h": {"shape": [-1, 1], "dtype": "float32", "source": "zeros"}}, "updated": ["h"]}
    prompt = {"token_ids": np.array([[1]]), "padding_mask": np.array([[1]])}
    options = decoding.DecodingOptions(end_token_id=2, **options)
    return decoding.generate(backend, layout, prompt, new_tokens, new_tokens + 1, options)[0].tolist()


def test_average_length_normalization_divides_by_the_length_with_the_end_token():
    # After start: end 0.4, a 0.6; after a: end 0.5, a 0.5 (as above).
    tiny = 1e-9
    table = [[0.25] * 4, [tiny, tiny, 0.4, 0.6], [0.25] * 4, [tiny, tiny, 0.5, 0.5]]
    average = dict(strategy="beam", num_beams=2, length_normalization="average")
    # Length counts the end token: [end] log 0.4 / 1 = -0.92; [a, end] log 0.3 / 2 = -0.60 wins at alpha 1.
    assert _table_run(table, **average, length_penalty=1.0) == [3, 2, 0]
    assert _table_run(table, **average, length_penalty=0.0) == [2, 0, 0]


def test_suppressed_tokens_never_come_out_and_a_forced_end_closes_the_row():
    tiny = 1e-9
    table = [[0.25] * 4, [tiny, tiny, 0.1, 0.9], [0.25] * 4, [tiny, tiny, 0.1, 0.9]]  # "a" forever, greedily.
    assert _table_run(table, new_tokens=4) == [3, 3, 3, 3]
    assert _table_run(table, new_tokens=4, force_end_token=True) == [3, 3, 3, 2]
    assert _table_run(table, new_tokens=4, suppressed_token_ids=(3,)) == [2, 0, 0, 0]
    for strategy in (dict(strategy="beam", num_beams=2), dict(strategy="top_k", top_k=2, seed=0)):
        assert _table_run(table, new_tokens=4, suppressed_token_ids=(3,), **strategy)[0] == 2, strategy
        assert _table_run(table, new_tokens=4, force_end_token=True, **strategy)[-1] == 2, strategy


def test_options_from_special_tokens_start_from_the_decoder_start():
    options = decoding.DecodingOptions.from_special_tokens({"pad": 58100, "end": 0, "decoder_start": 58100},
                                                           strategy="beam")
    assert (options.start_token_id, options.end_token_id, options.pad_token_id) == (58100, 0, 58100)
    options = decoding.DecodingOptions.from_special_tokens({"pad": 0, "start": 2, "end": 3})
    assert (options.start_token_id, options.pad_token_id) == (2, 0)
    with pytest.raises(ValueError, match="force_end_token=True without an end_token_id"):
        decoding.DecodingOptions.from_special_tokens({"pad": 0}, force_end_token=True)
    with pytest.raises(ValueError, match=r"expected one of 'gnmt', 'average'. Received: length_normalization='mean'"):
        decoding.DecodingOptions(length_normalization="mean")
