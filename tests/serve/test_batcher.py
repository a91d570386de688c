"""Dynamic batching (`kzoo.serve.batcher`): requests share calls, each gets exactly its own answer."""

import asyncio
import threading
import time

import anyio
import httpx
import pytest

from kzoo.runtime import load
from kzoo.serve.app import create_app
from kzoo.serve.batcher import Batcher
from kzoo.serve.batching_options import BatchingOptions
from tests.runtime import bundles as test_bundles


class RecordingFunction:
    """Doubles each item; refuses the item "bad"; records the rows of every call; each call takes `seconds`."""

    def __init__(self, seconds=0.05):
        self.seconds, self.calls, self.lock = seconds, [], threading.Lock()

    def __call__(self, items, scale=2):
        with self.lock:
            self.calls.append(list(items))
        time.sleep(self.seconds)
        if "bad" in items:
            raise ValueError("bad item")
        return [f"{item}x{scale}" for item in items]


def _gather(batcher, function, requests, **options):
    async def main():
        return await asyncio.gather(*(batcher.run(function, items, **options) for items in requests),
                                    return_exceptions=True)
    return asyncio.run(main())


def test_requests_arriving_together_share_calls_and_get_their_own_rows():
    function = RecordingFunction()
    requests = [[f"r{index}a", f"r{index}b"] for index in range(10)]
    results = _gather(Batcher(anyio.CapacityLimiter(1), rows=8, wait_seconds=0.01), function, requests, scale=3)
    assert results == [[f"{item}x3" for item in items] for items in requests]
    assert all(len(call) <= 8 for call in function.calls)
    assert len(function.calls) < len(requests)  # The first runs alone (idle server); the rest pile up behind it.
    assert sorted(item for call in function.calls for item in call) == sorted(i for r in requests for i in r)


def test_a_failing_request_fails_alone():
    function = RecordingFunction(seconds=0.01)
    requests = [["a"], ["b"], ["bad"], ["c"], ["d"]]
    results = _gather(Batcher(anyio.CapacityLimiter(1), rows=32, wait_seconds=0.05), function, requests)
    assert [r for r in results if not isinstance(r, Exception)] == [["ax2"], ["bx2"], ["cx2"], ["dx2"]]
    assert isinstance(results[2], ValueError)


def test_an_idle_server_does_not_wait_and_large_requests_are_not_split():
    function = RecordingFunction(seconds=0)
    batcher = Batcher(anyio.CapacityLimiter(2), rows=4, wait_seconds=5.0)
    started = time.monotonic()
    assert _gather(batcher, function, [["a", "b", "c", "d", "e", "f"]]) == [[f"{i}x2" for i in "abcdef"]]
    assert time.monotonic() - started < 1.0
    assert function.calls == [["a", "b", "c", "d", "e", "f"]]
    assert batcher.calls == 1 and batcher.rows_sent == 6


def test_different_options_never_share_a_call():
    function = RecordingFunction()

    async def main():
        batcher = Batcher(anyio.CapacityLimiter(1), rows=32, wait_seconds=0.01)
        return await asyncio.gather(*(batcher.run(function, [f"t{i}"], scale=2 + i % 2) for i in range(8)))

    results = asyncio.run(main())
    assert results == [[f"t{i}x{2 + i % 2}"] for i in range(8)]
    for call in function.calls:
        assert len({int(item[1:]) % 2 for item in call}) == 1


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    return load(test_bundles.bundles(tmp_path_factory)["translator"][0], threads=1)


@pytest.mark.parametrize("options", [{}, {"strategy": "beam", "num_beams": 3},
                                     {"strategy": "top_k", "top_k": 5, "seed": 7}], ids=["greedy", "beam", "seeded"])
def test_batched_translations_equal_each_request_alone(translator, options):
    texts = test_bundles.TRANSLATION_TEXTS * 3
    app = create_app(translator, concurrency=1, batching=BatchingOptions(rows=32, wait_ms=20))

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(*(client.post("/v1/translate", json={"texts": [text], **options})
                                               for text in texts))
        return [response.json()["translations"][0] for response in responses]

    assert asyncio.run(main()) == [translator.translate([text], **options)[0] for text in texts]
    runner = app.state.runner
    if options.get("strategy") == "beam":  # Beam search decodes in whole calls, batched across requests.
        assert 0 < runner.batcher.calls < len(texts)
    else:  # Greedy and sampling join the running batch of decode steps, each request with its own generator.
        decoder, = runner.decoders
        assert runner.batcher.calls == 0 and decoder.rows_stepped > decoder.steps


def test_without_batching_every_request_decodes_alone(translator):
    app = create_app(translator, concurrency=1, batching=None)

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.post("/v1/translate", json={"texts": [text]})
                                          for text in test_bundles.TRANSLATION_TEXTS))

    responses = asyncio.run(main())
    assert [r.json()["translations"][0] for r in responses] == translator.translate(test_bundles.TRANSLATION_TEXTS)
    assert app.state.runner.batcher is None and app.state.runner.decoders[0].steps == 0
