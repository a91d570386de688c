"""`"stream": true`: Server-Sent Events whose pieces add up to the answer; a client that leaves frees its rows."""

import asyncio
import json
import time

import httpx
import numpy as np
import pytest

from kzoo.runtime import load
from kzoo.serve.app import create_app
from tests.runtime import bundles as test_bundles
from tests.serve.servers import AUTH


def _events(text):
    """[(event, data)] of an SSE body."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def _pieces(events, rows):
    texts = [""] * rows
    for name, data in events:
        if name == "token":
            texts[data["index"]] += data["text"]
    return texts


def test_streamed_translations_and_continuations_add_up_to_the_answer(servers, runtimes):
    texts = test_bundles.TRANSLATION_TEXTS
    for options in ({}, {"strategy": "top_k", "top_k": 5, "seed": 3, "max_new_tokens": 8},
                    {"strategy": "beam", "num_beams": 3}):
        with httpx.stream("POST", servers["translator"].url + "/v1/translate", headers=AUTH, timeout=60,
                          json={"texts": texts, "stream": True, **options}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response.read().decode())
        expected = runtimes["translator"].translate(texts, **options)
        assert events[-1][0] == "done" and events[-1][1]["translations"] == expected
        assert set(events[-1][1]["timings"]) == {"first_token_ms", "total_ms", "events"}
        assert _pieces(events, len(texts)) == expected
    prompt = test_bundles.LM_PROMPTS[0]
    response = servers["lm"].post("/v1/generate", {"prompt": prompt, "max_new_tokens": 12, "stream": True})
    events = _events(response.text)
    expected = runtimes["lm"].generate(prompt, max_new_tokens=12)
    assert events[-1][1]["text"] == expected and _pieces(events, 1) == [expected]
    assert sum(name == "token" for name, _ in events) > 1  # Greedy decoding streams piece by piece.


def test_a_stream_refused_before_it_begins_gets_a_status_code(servers):
    response = servers["lm"].post("/v1/generate", {"prompt": "the " * 40, "max_new_tokens": 32, "stream": True})
    assert response.status_code == 413 and response.json()["limit"] == "max_length"


@pytest.fixture(scope="module")
def slow_lm(built):
    """The LM with 10 ms added to every decode step, so that a stream outlives its client."""
    model = load(built["lm"][0], threads=1)
    run = model.backend.run

    def slow_run(part, feeds):
        if part == "decode_step":
            time.sleep(0.01)
        return run(part, feeds)

    model.backend.run = slow_run
    return model


def test_a_client_that_disconnects_frees_its_rows_at_the_next_step(slow_lm):
    prompt = test_bundles.LM_PROMPTS[0]
    new_tokens = slow_lm.max_length - 8
    full = slow_lm.generate_ids(slow_lm.decoding_inputs([prompt], new_tokens), new_tokens)
    assert np.all(full != slow_lm.special_tokens.get("end", -1))  # Alone it would decode every token.
    app = create_app(slow_lm, concurrency=1)
    decoder = app.state.runner.decoders[0]
    body = json.dumps({"prompt": prompt, "max_new_tokens": new_tokens, "stream": True}).encode()
    sent = []

    async def receive():
        if not sent:
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        if any(m["type"] == "http.response.body" for m in sent):
            raise OSError("the client closed the connection")  # As a server reports a write to a closed socket.
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "method": "POST",
             "path": "/v1/generate", "headers": [(b"content-type", b"application/json")], "query_string": b""}

    async def main():
        try:
            await app(scope, receive, send)
        except Exception:  # noqa: BLE001 - the server's own reaction to a disconnect is not under test.
            pass
        for _ in range(100):
            if decoder.rows == 0:
                break
            await asyncio.sleep(0.02)

    asyncio.run(main())
    assert sent[0]["status"] == 200 and b"event: token" in sent[1]["body"]
    assert decoder.rows == 0
    assert decoder.steps < 8, f"{decoder.steps} steps of {new_tokens} ran after the client left"
