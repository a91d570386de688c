"""`EventStreamResponse`: a `text/event-stream` response that closes its event source as soon as the client leaves.

Starlette stops iterating a streaming body when the client disconnects but leaves
the async generator to the garbage collector; closing it here at once runs its
`finally` (which takes the request's rows out of the decode batch).

Example:
```python
return EventStreamResponse(token_events(runner, model, texts, options, "translations"))
```
"""

from starlette.responses import StreamingResponse


class EventStreamResponse(StreamingResponse):
    """A `StreamingResponse` of Server-Sent Events over an async generator, closed when the response ends.

    Example: `EventStreamResponse(token_events(runner, model, ["twelve"], {}, "translations"))`.
    """

    media_type = "text/event-stream"

    def __init__(self, events):
        super().__init__(events, headers={"Cache-Control": "no-cache"})
        self.events = events

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.events.aclose()
