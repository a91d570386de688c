"""kzoo.serve.Guard: the token, the body size and the encoding are checked before the app sees a request."""

from kzoo.serve.guard import Guard
from tests.serve.asgi import EchoApp, call


def test_a_good_request_reaches_the_app_as_json():
    guard = Guard(EchoApp(), max_body_bytes=64, api_key="secret")
    status, _, body = call(guard, body=b'{"texts": ["x"]}', headers=[("Authorization", "Bearer secret"),
                                                                    ("Content-Type", "application/x-www-form-urlencoded")])
    assert status == 200 and body == {"body": '{"texts": ["x"]}', "content_type": "application/json"}


def test_tokens_sizes_and_encodings_are_refused_with_their_reason():
    guard = Guard(EchoApp(), max_body_bytes=8, api_key="secret")
    status, headers, body = call(guard, body=b"{}")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="kzoo"' and "needs an API key" in body["error"]
    status, _, body = call(guard, body=b"{}", headers=[("Authorization", "Bearer wrong")])
    assert status == 401 and body == {"error": "The bearer token is not valid for this server."}
    status, _, body = call(guard, body=b'{"texts": ["far too long"]}', headers=[("Authorization", "Bearer secret")])
    assert status == 413 and body["limit"] == "max_body_bytes"
    status, _, body = call(guard, body=b'"\xff"', headers=[("Authorization", "Bearer secret")])
    assert status == 400 and "not valid UTF-8 (byte 1 is 0xff)" in body["error"]


def test_routes_outside_v1_pass_untouched():
    status, _, _ = call(Guard(EchoApp(), max_body_bytes=1, api_key="secret"), method="GET", path="/healthz")
    assert status == 200


def test_beyond_max_requests_the_answer_is_a_json_503_but_health_checks_pass():
    import asyncio

    release = asyncio.Event()

    class Waiting(EchoApp):
        async def __call__(self, scope, receive, send):
            await release.wait()
            await super().__call__(scope, receive, send)

    guard = Guard(Waiting(), max_body_bytes=64, max_requests=1)

    async def request(path, sent):
        async def receive():
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message):
            sent.append(message)

        await guard({"type": "http", "method": "POST", "path": path, "headers": []}, receive, send)

    async def main():
        first, second, health = [], [], []
        running = asyncio.ensure_future(request("/v1/translate", first))
        await asyncio.sleep(0.01)
        await request("/v1/translate", second)  # Answered at once: the one slot is taken.
        checking = asyncio.ensure_future(request("/healthz", health))
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(running, checking)
        return first, second, health

    first, second, health = asyncio.run(main())
    assert first[0]["status"] == 200 and health[0]["status"] == 200
    assert second[0]["status"] == 503
    assert (b"retry-after", b"1") in second[0]["headers"] and (b"content-type", b"application/json") in second[0]["headers"]
    assert b'"limit": "max_connections"' in second[1]["body"]
    assert guard.requests == 0
