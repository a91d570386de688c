"""`ContinuousDecoder`: requests that join a running batch decode exactly as they would alone."""

import concurrent.futures
import threading
import time

import numpy as np
import pytest

from kzoo.runtime import load
from kzoo.runtime.continuous_decoder import ContinuousDecoder
from tests.runtime import bundles as test_bundles

TEXTS = test_bundles.TRANSLATION_TEXTS + test_bundles.LM_PROMPTS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return test_bundles.bundles(tmp_path_factory)


@pytest.mark.parametrize("name", ["translator", "lm", "gru"])
def test_requests_joining_a_running_batch_decode_as_alone(built, name):
    model = load(built[name][0], threads=1)
    decoder = ContinuousDecoder(model, max_rows=6)
    try:
        submitted = []
        for index, text in enumerate(TEXTS):
            options = {"strategy": "top_p", "top_p": 0.9, "seed": index} if index % 3 == 1 else {}
            rows = [text] if index % 2 else [text, TEXTS[-1 - index]]  # Different row counts and source lengths.
            inputs = model.decoding_inputs(rows, 10)
            submitted.append((inputs, options, decoder.submit(inputs, 10, **options)))
            time.sleep(0.003)  # Arrive while earlier requests are decoding.
        for inputs, options, future in submitted:
            np.testing.assert_array_equal(future.result(timeout=60), model.generate_ids(inputs, 10, **options))
        assert decoder.rows_stepped > decoder.steps  # Steps were shared.
        assert decoder.rows == 0 and decoder.waiting == 0
    finally:
        decoder.close()


def test_streamed_steps_a_cancelled_request_and_a_failing_one(built):
    model = load(built["lm"][0], threads=1)
    decoder = ContinuousDecoder(model)
    try:
        steps = []
        inputs = model.decoding_inputs(["the model reads"], 20)
        expected = model.generate_ids(inputs, 20)
        future = decoder.submit(inputs, 20, on_tokens=steps.append)
        np.testing.assert_array_equal(future.result(timeout=60), expected)
        assert [s.shape[1] for s in steps] == list(range(1, len(steps) + 1))
        np.testing.assert_array_equal(steps[-1], expected[:, : len(steps)])

        # A request is dropped between steps once cancelled: its rows leave, the others go on.
        gate, release = threading.Event(), threading.Event()

        def hold(tokens):
            gate.set()
            release.wait(10)

        long = decoder.submit(model.decoding_inputs(["a story"], 30), 30, on_tokens=hold)
        gate.wait(10)
        other = decoder.submit(inputs, 20)
        decoder.cancel(long)
        release.set()
        with pytest.raises(concurrent.futures.CancelledError):
            long.result(timeout=60)
        np.testing.assert_array_equal(other.result(timeout=60), expected)

        # A prompt the bundle cannot hold fails alone.
        too_long = {"token_ids": np.ones((1, model.max_length), "int32"), "padding_mask": np.ones((1, model.max_length), "int32")}
        with pytest.raises(ValueError, match="positions"):
            decoder.submit(too_long, 5).result(timeout=60)
        with pytest.raises(ValueError, match="beam"):
            decoder.submit(inputs, 5, strategy="beam")
    finally:
        decoder.close()


def test_contract_1_bundles_are_not_continuous_batched():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "contract_1_bundles" / "lm"
    model = load(folder)
    assert not ContinuousDecoder.supports(model)
    with pytest.raises(ValueError, match="contract 2"):
        ContinuousDecoder(model)
