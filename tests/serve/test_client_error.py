"""kzoo.serve.client_error: one JSON shape for every client mistake."""

import asyncio
import json

from kzoo.serve.client_error import ClientError, error_body, send_json


def test_the_error_body_names_the_limit_only_when_there_is_one():
    assert error_body("texts[0] is empty; send non-empty strings.") == {"error": "texts[0] is empty; send non-empty strings."}
    assert error_body("too big", "max_body_bytes") == {"error": "too big", "limit": "max_body_bytes"}
    error = ClientError(413, "too big", "max_batch_size")
    assert (error.status, error.message, error.limit, str(error)) == (413, "too big", "max_batch_size", "too big")


def test_send_json_answers_a_raw_asgi_request():
    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(send_json(send, 401, {"error": "no"}, [(b"www-authenticate", b"Bearer")]))
    start, body = sent
    assert start["status"] == 401 and (b"content-type", b"application/json") in start["headers"]
    assert (b"www-authenticate", b"Bearer") in start["headers"] and json.loads(body["body"]) == {"error": "no"}
