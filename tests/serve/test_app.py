"""The app (`kzoo.serve.app`) over real HTTP: a real server process per bundle on a free loopback port.

Responses must equal the runtime's outputs for the same inputs; every kind of bad
input gets a 4xx JSON error and leaves the server healthy; bearer-token auth.
"""

import json
from pathlib import Path

import httpx
import numpy as np

from tests.runtime import bundles as test_bundles
from tests.serve.servers import API_KEY, AUTH


def test_translate_over_http_equals_the_runtime(servers, runtimes):
    texts = test_bundles.TRANSLATION_TEXTS
    for options in ({}, {"strategy": "beam", "num_beams": 3, "length_penalty": 0.6},
                    {"strategy": "top_k", "top_k": 5, "seed": 11, "max_new_tokens": 8}):
        response = servers["translator"].post("/v1/translate", {"texts": texts, **options})
        assert response.status_code == 200, response.text
        assert response.json() == {"translations": runtimes["translator"].translate(texts, **options)}


def test_classify_over_http_equals_the_runtime(servers, runtimes):
    texts = test_bundles.CLASSIFICATION_TEXTS
    response = servers["classifier"].post("/v1/classify", {"texts": texts})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = runtimes["classifier"].classify(texts)
    assert body["label_names"] == test_bundles.CLASSIFICATION_LABELS
    assert [p["label"] for p in body["predictions"]] == [e["label"] for e in expected]
    np.testing.assert_allclose([p["probabilities"] for p in body["predictions"]], [e["probabilities"] for e in expected],
                               rtol=0, atol=1e-7)


def test_tag_and_generate_over_http_equal_the_runtime(servers, runtimes):
    response = servers["tagger"].post("/v1/tag", {"texts": test_bundles.TAGGING_TEXTS})
    assert response.status_code == 200, response.text
    expected = runtimes["tagger"].tag(test_bundles.TAGGING_TEXTS)
    assert [[w["tag"] for w in row] for row in response.json()["tags"]] == [[w["tag"] for w in row] for row in expected]
    response = servers["lm"].post("/v1/generate", {"prompt": test_bundles.LM_PROMPTS, "max_new_tokens": 12})
    assert response.status_code == 200, response.text
    assert response.json() == {"text": runtimes["lm"].generate(test_bundles.LM_PROMPTS, max_new_tokens=12)}
    response = servers["lm"].post("/v1/generate", {"prompt": "the film", "strategy": "top_p", "top_p": 0.9, "seed": 3})
    assert response.json() == {"text": runtimes["lm"].generate("the film", strategy="top_p", top_p=0.9, seed=3)}


def test_classify_images_over_http_equals_the_runtime(servers, runtimes, built):
    images = built["vit"][1]["images"]
    response = servers["vit"].post("/v1/classify", {"images": images})
    assert response.status_code == 200, response.text
    expected = runtimes["vit"].classify(np.array(images, "float32"))
    assert [p["label"] for p in response.json()["predictions"]] == [e["label"] for e in expected]
    np.testing.assert_allclose([p["probabilities"] for p in response.json()["predictions"]],
                               [e["probabilities"] for e in expected], rtol=0, atol=1e-7)


def test_model_health_and_docs_endpoints(servers, built):
    server = servers["translator"]
    manifest = json.loads((built["translator"][0] / "manifest.json").read_text())
    assert httpx.get(server.url + "/v1/model", headers=AUTH).json() == manifest
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok", "task": "translation", "in_flight": 0}
    schema = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/translate", "/v1/model", "/healthz"} <= set(schema["paths"])
    assert "/v1/classify" not in schema["paths"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert httpx.get(server.url + "/docs").status_code == 200


def test_the_bearer_token_is_required_on_v1_only(servers):
    server = servers["translator"]
    body = {"texts": ["twelve"]}
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": API_KEY}, 401),
                            ({"Authorization": f"Basic {API_KEY}"}, 401), (AUTH, 200)):
        response = server.post("/v1/translate", body, headers=headers)
        assert response.status_code == status, (headers, response.text)
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "error" in response.json()
    assert httpx.get(server.url + "/v1/model").status_code == 401
    assert httpx.get(server.url + "/metrics").status_code == 401
    metrics = httpx.get(server.url + "/metrics", headers=AUTH)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'kzoo_requests_total{route="/v1/translate",status="401"}' in metrics.text
    assert httpx.get(server.url + "/healthz").status_code == 200
    assert servers["tagger"].post("/v1/tag", {"texts": ["Anna"]}, headers={}).status_code == 200  # no key configured


def _bad_requests():
    """(name, server, method, path, kwargs, status, limit or None)."""
    ok = {"texts": ["twelve"]}
    return [
        ("empty body", "translator", "POST", "/v1/translate", dict(content=b""), 400, None),
        ("invalid JSON", "translator", "POST", "/v1/translate", dict(content=b'{"texts": ["tw'), 400, None),
        ("JSON array", "translator", "POST", "/v1/translate", dict(content=b"[1, 2]"), 422, None),
        ("number in texts", "translator", "POST", "/v1/translate", dict(body={"texts": [1]}), 422, None),
        ("texts not a list", "translator", "POST", "/v1/translate", dict(body={"texts": "twelve"}), 422, None),
        ("string for an int", "translator", "POST", "/v1/translate", dict(body={**ok, "num_beams": "4"}), 422, None),
        ("unknown field", "translator", "POST", "/v1/translate", dict(body={"text": ["twelve"]}), 422, None),
        ("NaN temperature", "translator", "POST", "/v1/translate",
         dict(content=b'{"texts": ["twelve"], "temperature": NaN}'), 422, None),
        ("top_p without p", "translator", "POST", "/v1/translate", dict(body={**ok, "strategy": "top_p"}), 422, None),
        ("empty list", "translator", "POST", "/v1/translate", dict(body={"texts": []}), 422, None),
        ("empty string", "translator", "POST", "/v1/translate", dict(body={"texts": ["twelve", ""]}), 422, None),
        ("blank string", "classifier", "POST", "/v1/classify", dict(body={"texts": ["   "]}), 422, None),
        ("lone surrogate", "translator", "POST", "/v1/translate", dict(content=b'{"texts": ["\\ud800"]}'), 422, None),
        ("non-UTF-8 bytes", "translator", "POST", "/v1/translate", dict(content=b'{"texts": ["\xff\xfe"]}'), 400, None),
        ("far too long string", "translator", "POST", "/v1/translate", dict(body={"texts": ["one " * 50_000]}), 413,
         "max_text_chars"),
        ("too many tokens", "classifier", "POST", "/v1/classify", dict(body={"texts": ["great " * 200]}), 413,
         "max_sequence_length"),
        ("batch over the limit", "classifier", "POST", "/v1/classify", dict(body={"texts": ["great"] * 9}), 413,
         "max_batch_size"),
        ("body over the limit", "translator", "POST", "/v1/translate", dict(content=b"x" * (2 << 20)), 413,
         "max_body_bytes"),
        ("too many new tokens", "translator", "POST", "/v1/translate", dict(body={**ok, "max_new_tokens": 500}), 413,
         "max_new_tokens"),
        ("too many beams", "translator", "POST", "/v1/translate", dict(body={**ok, "strategy": "beam", "num_beams": 64}),
         413, "max_num_beams"),
        ("unknown task", "translator", "POST", "/v1/summarize", dict(body=ok), 404, None),
        ("task of another bundle", "translator", "POST", "/v1/classify", dict(body=ok), 404, None),
        ("unknown path", "translator", "GET", "/v2/anything", {}, 404, None),
        ("wrong method", "translator", "GET", "/v1/translate", {}, 405, None),
        ("missing token", "translator", "POST", "/v1/translate", dict(body=ok, headers={}), 401, None),
        ("wrong token", "translator", "POST", "/v1/translate", dict(body=ok, headers={"Authorization": "Bearer x"}), 401,
         None),
        ("prompt too long", "lm", "POST", "/v1/generate", dict(body={"prompt": "the " * 40, "max_new_tokens": 32}), 413,
         "max_length"),
        ("prompt of the wrong type", "lm", "POST", "/v1/generate", dict(body={"prompt": {"text": "the"}}), 422, None),
        ("image of the wrong shape", "vit", "POST", "/v1/classify", dict(body={"images": [[[[0.5, 0.5]] * 8] * 8]}), 422,
         None),
        ("text to an image model", "vit", "POST", "/v1/classify", dict(body={"texts": ["a picture"]}), 422, None),
        ("ragged image", "vit", "POST", "/v1/classify", dict(body={"images": [[[[0.5]], [[0.5], [0.5]]]]}), 422, None),
    ]


def test_every_bad_request_gets_a_4xx_json_error_and_the_server_stays_healthy(servers):
    failures = []
    for name, server_name, method, path, kwargs, status, limit in _bad_requests():
        server = servers[server_name]
        if method == "GET":
            response = httpx.get(server.url + path, headers=AUTH, timeout=30)
        else:
            response = server.post(path, **kwargs)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
        if response.status_code != status or not isinstance(body, dict) or not body.get("error"):
            failures.append(f"{name}: {response.status_code} {response.text[:200]}")
        elif limit is not None and (body.get("limit") != limit or limit not in body["error"]):
            failures.append(f"{name}: limit {body.get('limit')!r} in {body}")
    assert not failures, "\n".join(failures)
    for name, server in servers.items():
        assert httpx.get(server.url + "/healthz").status_code == 200, name
        assert server.process.poll() is None, name
    assert servers["translator"].post("/v1/translate", {"texts": ["twelve"]}).status_code == 200
    for server in servers.values():
        log = Path(server.log_path).read_text()
        assert "Traceback" not in log and " 500 " not in log, log[-3000:]


def test_the_schema_says_what_the_server_accepts(servers):
    server = servers["translator"]
    response = server.post("/v1/model", {})
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    response = httpx.put(server.url + "/v1/translate", headers=AUTH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    schema = httpx.get(server.url + "/openapi.json").json()
    texts = schema["components"]["schemas"]["TranslateRequest"]["properties"]["texts"]["items"]
    assert texts["pattern"] == r"\S"  # Blank texts are refused, and the schema says so.
    response = server.post("/v1/translate", {"texts": [" "]})
    assert response.status_code == 422 and "texts.0: is empty" in response.json()["error"]
    declared = schema["paths"]["/v1/translate"]["post"]["responses"]
    assert {"200", "400", "401", "413", "422", "503", "504"} <= set(declared)
