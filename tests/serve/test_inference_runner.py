"""`InferenceRunner`: the queue limit (503 + Retry-After), a request's deadline (504), runtime errors as 4xx."""

import asyncio
import time
from types import SimpleNamespace

import pytest

from kzoo.runtime import InputTooLongError
from kzoo.serve.batching_options import BatchingOptions
from kzoo.serve.client_error import ClientError
from kzoo.serve.inference_runner import InferenceRunner

NOT_GENERATIVE = SimpleNamespace(generative=False)


def slow(rows, seconds=0.3):
    time.sleep(seconds)
    return [row.upper() for row in rows]


async def _outcomes(runner, calls):
    results = await asyncio.gather(*calls, return_exceptions=True)
    return [result.status if isinstance(result, ClientError) else result for result in results]


@pytest.mark.parametrize("batching", [None, BatchingOptions(rows=1, wait_ms=0)], ids=["alone", "batched"])
def test_beyond_max_queue_requests_get_503_with_retry_after(batching):
    runner = InferenceRunner(NOT_GENERATIVE, concurrency=1, max_queue=2, batching=batching)

    async def main():
        tasks = []
        for index in range(6):
            tasks.append(asyncio.ensure_future(runner(slow, [f"r{index}"], seconds=0.2)))
            await asyncio.sleep(0.01)  # The first is running before the next arrive.
        return await _outcomes(runner, tasks)

    outcomes = asyncio.run(main())
    assert outcomes[:3] == [["R0"], ["R1"], ["R2"]]  # One running, two waiting.
    assert outcomes[3:] == [503, 503, 503]

    async def refused():
        first = asyncio.ensure_future(runner(slow, ["a"]))
        await asyncio.sleep(0.01)
        queued = [asyncio.ensure_future(runner(slow, ["b"])) for _ in range(2)]
        await asyncio.sleep(0.01)
        with pytest.raises(ClientError) as raised:
            await runner(slow, ["c"])
        await asyncio.gather(first, *queued)
        return raised.value

    error = asyncio.run(refused())
    assert error.headers == {"Retry-After": "1"} and error.limit == "max_queue" and "max_queue=2" in error.message


def test_a_request_past_its_deadline_gets_504_and_leaves_the_queue():
    runner = InferenceRunner(NOT_GENERATIVE, concurrency=1, max_queue=8, batching=BatchingOptions(rows=1, wait_ms=0))
    calls = []

    def recorded(rows):
        calls.append(rows)
        return slow(rows, 0.3)

    async def main():
        first = asyncio.ensure_future(runner(recorded, ["first"]))
        await asyncio.sleep(0.01)
        started = time.monotonic()
        late = asyncio.ensure_future(runner(recorded, ["late"], timeout_ms=50))
        outcomes = await _outcomes(runner, [late])
        waited = time.monotonic() - started
        return outcomes + await _outcomes(runner, [first]), waited

    outcomes, waited = asyncio.run(main())
    assert outcomes == [504, ["FIRST"]]
    assert waited < 0.25  # Answered at its deadline, not after the running call.
    assert calls == [["first"]]  # The late request never reached the model.
    assert runner.waiting == 0


def test_runtime_errors_become_client_errors():
    runner = InferenceRunner(NOT_GENERATIVE, concurrency=1, max_queue=8)

    def too_long(rows):
        raise InputTooLongError(0, 90, 64, "max_sequence_length", "")

    def invalid(rows):
        raise ValueError("Received an invalid value for argument `rows`.")

    async def main():
        return await _outcomes(runner, [runner(too_long, ["x"]), runner(invalid, ["x"])])

    assert asyncio.run(main()) == [413, 422]
