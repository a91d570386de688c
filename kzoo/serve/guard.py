"""The ASGI middleware in front of the app: bearer token, body size, JSON content type, UTF-8.

It guards `/v1/`, `/v2` and `/metrics`; `/healthz` and the docs stay open.

It runs before FastAPI parses anything, so an unauthenticated or oversized request
costs no parsing, and a non-UTF-8 body is refused with its own message.

Example:
```python
app.add_middleware(Guard, max_body_bytes=1 << 20, api_key="secret", counters={"in_flight": 0})
```
"""

import hmac

from kzoo.serve.client_error import error_body, send_json

_DRAIN_LIMIT = 16 << 20  # Bytes of an oversized body read (and dropped) so the client sees the 413.
GUARDED = ("/v1/", "/v2/", "/metrics/")
HEALTH = ("/healthz", "/v2/health/live", "/v2/health/ready")  # Answered even at max_connections.
# A V2 request in the binary tensor extension: a JSON header of this many bytes, then raw tensors.
_BINARY_HEADER = b"inference-header-content-length"


def guarded(path):
    """True for the paths the bearer token and body checks apply to."""
    return (path.rstrip("/") + "/").startswith(GUARDED)


class Guard:
    """ASGI middleware: `/v1/`, `/v2` and `/metrics` requests pass only with the right token, a small enough UTF-8 body.

    Args:
        app: the ASGI app behind it.
        max_body_bytes: int. Largest request body; more is answered with 413.
        api_key: str or None. The bearer token every `/v1/` request must send.
        counters: dict or None. Its "in_flight" counts guarded requests being handled.
        max_requests: int or None. Requests handled at once (health checks aside); more get a JSON 503.

    Example: `app.add_middleware(Guard, max_body_bytes=1 << 20, api_key="secret")`.
    """

    def __init__(self, app, max_body_bytes, api_key=None, counters=None, max_requests=None):
        self.app = app
        self.max_requests = max_requests
        self.requests = 0
        self.api_key = api_key.encode("utf-8") if api_key else None
        self.max_body_bytes = max_body_bytes
        self.counters = counters if counters is not None else {"in_flight": 0}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limited = self.max_requests is not None and scope["path"] not in HEALTH
        if limited and self.requests >= self.max_requests:
            return await send_json(send, 503, error_body(
                f"The server is handling max_connections={self.max_requests} requests; retry in a second.",
                "max_connections"), [(b"retry-after", b"1")])
        self.requests += limited
        try:
            if not guarded(scope["path"]):
                return await self.app(scope, receive, send)
            return await self._counted(scope, receive, send)
        finally:
            self.requests -= limited

    async def _counted(self, scope, receive, send):
        self.counters["in_flight"] += 1  # Only the event loop touches it.
        try:
            return await self._guarded(scope, receive, send)
        finally:
            self.counters["in_flight"] -= 1

    async def _guarded(self, scope, receive, send):
        headers = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.lower(), value)
        if self.api_key is not None:
            problem = self._auth_problem(headers.get(b"authorization"))
            if problem:
                return await send_json(send, 401, error_body(problem), [(b"www-authenticate", b'Bearer realm="kzoo"')])
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        # Every body is JSON (or V2's JSON header + raw tensors), whatever Content-Type says (curl -d sends
        # form-urlencoded).
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
                     + [(b"content-type", b"application/json")])
        declared = headers.get(b"content-length")
        too_big = error_body(f"The request body is larger than max_body_bytes={self.max_body_bytes}.", "max_body_bytes")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _drain(receive, _DRAIN_LIMIT)
            return await send_json(send, 413, too_big)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                if message.get("more_body"):
                    await _drain(receive, _DRAIN_LIMIT - size)
                return await send_json(send, 413, too_big)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            if _BINARY_HEADER not in headers:
                body.decode("utf-8")
        except UnicodeDecodeError as error:
            return await send_json(send, 400, error_body(
                f"The request body is not valid UTF-8 (byte {error.start} is 0x{body[error.start]:02x}); send JSON in UTF-8."))
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def _auth_problem(self, header):
        if not header:
            return "This server needs an API key: send the header 'Authorization: Bearer <key>'."
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            return "The Authorization header must be 'Bearer <key>'."
        if not hmac.compare_digest(token.strip(), self.api_key):
            return "The bearer token is not valid for this server."
        return None


async def _drain(receive, budget):
    """Reads and drops what is left of a request body (up to `budget` bytes) so the client reads our answer."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body"):
            return
