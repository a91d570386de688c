"""The /v2 routes (`kzoo.serve.open_inference`) through the official client, tritonclient[http].

Every route, JSON and binary tensors, every task kind against the runtime's own
answer, and the error paths as tritonclient reports them.
"""

import json

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.runtime import bundles as test_bundles
from tests.serve.servers import AUTH


def _auth():
    """A fresh headers dict per call: tritonclient adds its own headers to the dict it is given."""
    return dict(AUTH)


def _client(server):
    return triton.InferenceServerClient(server.url.removeprefix("http://"), network_timeout=60)


def _text_input(texts, binary):
    tensor = triton.InferInput("text", [len(texts)], "BYTES")
    return tensor.set_data_from_numpy(np.array(texts, dtype=object), binary_data=binary)


def _strings(array):
    return [item.decode("utf-8") if isinstance(item, bytes) else item for item in array.tolist()]


def test_server_and_model_routes(servers, built):
    client = _client(servers["translator"])
    assert client.is_server_live(headers=_auth()) and client.is_server_ready(headers=_auth())
    assert not client.is_server_live()  # The translator's server has an API key; /v2 needs it as /v1 does.
    assert client.is_model_ready("translator", headers=_auth())
    assert client.is_model_ready("translator", "1", headers=_auth())
    assert not client.is_model_ready("translator", "2", headers=_auth())
    assert client.get_server_metadata(headers=_auth())["extensions"] == ["binary_tensor_data"]
    assert client.get_model_metadata("translator", headers=_auth()) == {
        "name": "translator", "versions": ["1"], "platform": "kzoo_onnx",
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": "translation", "datatype": "BYTES", "shape": [-1]}],
    }
    vit = _client(servers["vit"]).get_model_metadata("vit")
    image_shape = list(np.shape(built["vit"][1]["images"])[1:])
    assert vit["inputs"] == [{"name": "images", "datatype": "FP32", "shape": [-1, *image_shape]}]
    assert [output["name"] for output in vit["outputs"]] == ["label", "label_id", "probabilities"]
    assert vit["outputs"][2]["shape"] == [-1, np.shape(built["vit"][1]["probabilities"])[1]]
    schema = httpx.get(servers["translator"].url + "/openapi.json").json()
    assert {"/v2", "/v2/health/live", "/v2/models/{model_name}/infer"} <= set(schema["paths"])
    assert {"InferenceRequest", "RequestInput"} <= set(schema["components"]["schemas"])


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_translate_and_generate_equal_the_runtime(servers, runtimes, binary):
    texts = test_bundles.TRANSLATION_TEXTS
    client = _client(servers["translator"])
    for parameters in ({}, {"strategy": "beam", "num_beams": 3, "length_penalty": 0.6},
                       {"strategy": "top_k", "top_k": 5, "seed": 11, "max_new_tokens": 8}):
        result = client.infer("translator", [_text_input(texts, binary)], parameters=parameters, headers=_auth(),
                              outputs=[triton.InferRequestedOutput("translation", binary_data=binary)])
        assert _strings(result.as_numpy("translation")) == runtimes["translator"].translate(texts, **parameters)
    prompts = test_bundles.LM_PROMPTS
    result = _client(servers["lm"]).infer("lm", [_text_input(prompts, binary)], parameters={"max_new_tokens": 12})
    assert _strings(result.as_numpy("continuation")) == runtimes["lm"].generate(prompts, max_new_tokens=12)


def test_classify_and_tag_equal_the_runtime(servers, runtimes, built):
    texts = test_bundles.CLASSIFICATION_TEXTS
    result = _client(servers["classifier"]).infer("classifier", [_text_input(texts, False)], headers=_auth())
    expected = runtimes["classifier"].classify(texts)
    assert _strings(result.as_numpy("label")) == [row["label"] for row in expected]
    assert result.as_numpy("label_id").tolist() == [row["label_id"] for row in expected]
    assert result.as_numpy("probabilities").dtype == np.float32
    np.testing.assert_allclose(result.as_numpy("probabilities"), [row["probabilities"] for row in expected], atol=1e-7)

    result = _client(servers["tagger"]).infer("tagger", [_text_input(test_bundles.TAGGING_TEXTS, False)],
                                              outputs=[triton.InferRequestedOutput("tags", binary_data=False)])
    tags = [json.loads(row) for row in _strings(result.as_numpy("tags"))]
    assert [[w["tag"] for w in row] for row in tags] == [
        [w["tag"] for w in row] for row in runtimes["tagger"].tag(test_bundles.TAGGING_TEXTS)]

    images = np.array(built["vit"][1]["images"], "float32")
    for binary in (False, True):
        tensor = triton.InferInput("images", list(images.shape), "FP32").set_data_from_numpy(images, binary_data=binary)
        result = _client(servers["vit"]).infer("vit", [tensor], outputs=[
            triton.InferRequestedOutput("probabilities", binary_data=binary)])
        assert result.as_numpy("label") is None  # Only what was asked for comes back.
        expected = [row["probabilities"] for row in runtimes["vit"].classify(images)]
        np.testing.assert_allclose(result.as_numpy("probabilities"), expected, atol=1e-7)


def _error(call):
    with pytest.raises(InferenceServerException) as raised:
        call()
    return raised.value.status(), raised.value.message()


def test_error_paths_as_tritonclient_reports_them(servers):
    translator, classifier = _client(servers["translator"]), _client(servers["classifier"])
    texts = _text_input(["twelve"], False)
    cases = {
        "unknown model": (lambda: translator.infer("nope", [texts], headers=_auth()), "404", "Unknown model 'nope'"),
        "unknown version": (lambda: translator.infer("translator", [texts], model_version="7", headers=_auth()), "404",
                            "no version '7'"),
        "no token": (lambda: translator.infer("translator", [texts]), "401", "Bearer"),
        "unknown option": (lambda: translator.infer("translator", [texts], parameters={"beams": 4}, headers=_auth()),
                           "400", "beams"),
        "bad option": (lambda: translator.infer("translator", [texts], parameters={"strategy": "top_p"}, headers=_auth()),
                       "400", "top_p"),
        "too many beams": (lambda: translator.infer("translator", [texts], headers=_auth(),
                                                    parameters={"strategy": "beam", "num_beams": 64}),
                           "413", "max_num_beams"),
        "parameters to a classifier": (lambda: classifier.infer("classifier", [texts], parameters={"seed": 1},
                                                                headers=_auth()), "400", "takes no parameters"),
        "unknown output": (lambda: classifier.infer("classifier", [texts], headers=_auth(), outputs=[
            triton.InferRequestedOutput("logits", binary_data=False)]), "400", "no output 'logits'"),
        "batch over the limit": (lambda: classifier.infer("classifier", [_text_input(["great"] * 9, False)],
                                                          headers=_auth()), "413", "max_batch_size"),
        "empty text": (lambda: classifier.infer("classifier", [_text_input(["  "], True)], headers=_auth()), "400",
                       "text[0] is empty"),
    }
    wrong_name = triton.InferInput("texts", [1], "BYTES").set_data_from_numpy(np.array(["x"], dtype=object))
    cases["wrong input name"] = (lambda: classifier.infer("classifier", [wrong_name], headers=_auth()), "400",
                                 "one input 'text'")
    wrong_type = triton.InferInput("text", [1], "INT64").set_data_from_numpy(np.array([3]), binary_data=False)
    cases["wrong input type"] = (lambda: classifier.infer("classifier", [wrong_type], headers=_auth()), "400",
                                 "must be BYTES")
    failures = []
    for name, (call, status, words) in cases.items():
        got_status, message = _error(call)
        if got_status != status or words not in message:
            failures.append(f"{name}: {got_status} {message}")
    assert not failures, "\n".join(failures)


def test_malformed_bodies_get_the_protocols_error_shape(servers):
    url = servers["tagger"].url + "/v2/models/tagger/infer"
    tensor = {"name": "text", "datatype": "BYTES", "shape": [2], "data": ["Anna"]}
    binary_header = json.dumps({"inputs": [{**tensor, "shape": [1], "parameters": {"binary_data_size": 10}}]}).encode()
    for body, headers, words in (
        (b"", {}, "empty"),
        (b'{"inputs": [', {}, "not valid JSON"),
        (json.dumps({"inputs": [tensor]}).encode(), {}, "has 1 elements; its shape [2] needs 2"),
        (json.dumps({"inputs": []}).encode(), {}, "inputs"),
        (json.dumps({"inputs": [{**tensor, "shape": [1], "datatype": "STRING"}]}).encode(), {}, "datatype"),
        (b'{"inputs": []}', {"Inference-Header-Content-Length": "99"}, "Inference-Header-Content-Length"),
        (binary_header + b"\0\0", {"Inference-Header-Content-Length": str(len(binary_header))}, "binary_data_size"),
    ):
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert words in response.json()["error"], response.json()
    assert httpx.post(url, json={"inputs": [{**tensor, "shape": [1], "data": ["Anna"]}]}).status_code == 200
