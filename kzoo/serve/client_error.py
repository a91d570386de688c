"""Client mistakes as the server answers them: `ClientError`, its JSON body, and a raw ASGI JSON reply.

Every 4xx the server sends is `{"error": "<one sentence>"}`, plus `"limit"` naming
the limit for a 413. The guard middleware answers before FastAPI runs and the
app's handlers answer through FastAPI; both build the body here.

Example:
```python
raise ClientError(413, "3 items exceed max_batch_size=2; split the batch.", "max_batch_size")
```
"""

import json


class ClientError(Exception):
    """A client mistake: answered with `status` and `{"error": message[, "limit": limit]}`.

    Args:
        status: int. The HTTP status, a 4xx.
        message: str. One sentence that names the problem and the fix.
        limit: str or None. The limit's name, for a 413.
        headers: dict or None. Headers the answer must carry (`Allow` on a 405, `Retry-After` on a 503).

    Example: `raise ClientError(422, "texts[0] is empty; send non-empty strings.")`.
    """

    def __init__(self, status, message, limit=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.limit, self.headers = status, message, limit, headers


def error_body(message, limit=None):
    """The JSON body of an error answer."""
    body = {"error": message}
    if limit:
        body["limit"] = limit
    return body


async def send_json(send, status, body, headers=()):
    """Answers a raw ASGI request with `body` as JSON (for middleware that runs before FastAPI)."""
    payload = json.dumps(body).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": payload})
