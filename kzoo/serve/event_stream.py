"""Server-Sent Events for `"stream": true`: the text of each row as it is decoded.

The stream (`text/event-stream`) holds one `token` event per new piece of a
row's text, then one `done` event with the whole output and timings:

```
event: token
data: {"index": 0, "text": "zwei"}

event: done
data: {"translations": ["zweiundvierzig"], "timings": {"first_token_ms": 4.1, "total_ms": 20.3, "events": 3}}
```

A piece is what a row's decoded text gained since the previous event (a step
whose token changes earlier characters, as a SentencePiece word boundary can,
waits until the text grows again). Beam search streams nothing until its end
(its best beam is known only then), nor do bundles of decode-step contract 1:
their `done` event follows one `token` event per row. An error after the stream
began is an `error` event `{"error": "<one sentence>"}`. A client that
disconnects takes its rows out of the running batch at the next step.

Example:
```python
return StreamingResponse(token_events(runner, model, texts, options, "translations"), media_type="text/event-stream")
```
"""

import asyncio
import json
import logging
import time

from kzoo.serve.client_error import ClientError

logger = logging.getLogger("kzoo.serve")


def _event(name, data):
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def token_events(runner, model, texts, options, key, timeout_ms=None, single=False):
    """The SSE stream of decoding `texts` with `options` through `runner` (an `InferenceRunner`).

    `key` names the output in the `done` event ("translations" or "text"); `single`:
    it is the one text itself rather than a list (a single prompt to /v1/generate).
    """
    steps = asyncio.Queue()
    started = time.perf_counter()
    first = None
    sent = [""] * len(texts)
    events = 0
    task = asyncio.ensure_future(runner.decode(texts, timeout_ms=timeout_ms, on_tokens=steps.put_nowait, **options))
    try:
        while True:
            getter = asyncio.ensure_future(steps.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
            tokens = getter.result() if getter.done() and not getter.cancelled() else None
            if tokens is None and not task.done():
                continue
            current = task.result() if tokens is None else model.decode_new_tokens(tokens)
            for index, (before, now) in enumerate(zip(sent, current)):
                if len(now) > len(before) and now.startswith(before):
                    first = first if first is not None else time.perf_counter()
                    events += 1
                    sent[index] = now
                    yield _event("token", {"index": index, "text": now[len(before):]})
            if tokens is None:
                timings = {"first_token_ms": round(1000 * ((first or time.perf_counter()) - started), 2),
                           "total_ms": round(1000 * (time.perf_counter() - started), 2), "events": events}
                yield _event("done", {key: current[0] if single else current, "timings": timings})
                return
    except ClientError as error:
        yield _event("error", {"error": error.message})
    except Exception:  # noqa: BLE001 - the status line is sent already; the stream says what happened.
        logger.exception("Unexpected error while streaming")
        yield _event("error", {"error": "Internal server error; see the server log."})
    finally:
        task.cancel()  # The client left (or we are done): its rows leave the batch.
