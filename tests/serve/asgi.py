"""Calling an ASGI app in-process with one HTTP request, for the middleware tests."""

import asyncio
import json


def call(app, method="POST", path="/v1/translate", body=b"", headers=()):
    """(status, headers dict, parsed JSON body or None, what the inner app received) of one request."""
    chunks = [body]
    sent = []

    async def receive():
        return {"type": "http.request", "body": chunks.pop(0) if chunks else b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, json.loads(payload) if payload else None


class EchoApp:
    """An inner app that answers 200 with the body it was given and the content type it saw."""

    async def __call__(self, scope, receive, send):
        message = await receive()
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
        payload = json.dumps({"body": message["body"].decode(), "content_type": content_type}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
