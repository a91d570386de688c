"""The KServe V2 / Open Inference Protocol routes under /v2 (the protocol Triton and KServe speak).

- `GET /v2`: server metadata; `GET /v2/health/live`, `/v2/health/ready`: `{"live": true}`, `{"ready": true}`.
- `GET /v2/models/{name}[/versions/1]`: the model's inputs and outputs; `.../ready`.
- `POST /v2/models/{name}[/versions/1]/infer`: one inference.

The model's name is the bundle folder's name unless `kzoo serve --model-name` says
otherwise; its only version is "1". Text tasks take one input `text` (BYTES,
`[N]`); image classifiers take `images` (FP32, `[N, H, W, C]`, in [0, 1]).
Outputs are named after what they hold:

| task | outputs |
|---|---|
| translation | `translation` BYTES [N] |
| language_modeling | `continuation` BYTES [N] |
| classification, image_classification | `label` BYTES [N], `label_id` INT64 [N], `probabilities` FP32 [N, classes] |
| tagging | `tags` BYTES [N]: per row one JSON string, the list of `{"word", "tag", "tag_id", "score"}` |

Decoding options (`strategy`, `num_beams`, `max_new_tokens`, `seed`, ...; and a
translator's `target_language`) and any request's `timeout_ms` go in the request's `parameters`, with the same
meaning and checks as on /v1. Tensors come as JSON or in the binary tensor data
extension (`kzoo.serve.v2_tensors`); an output is binary when the request asks for
it (`binary_data_output`, or `binary_data` on the output), which is
tritonclient's default. Errors are the protocol's `{"error": "<one sentence>"}`:
400 for a malformed request, 404 for an unknown model or version, 413 for a limit,
503 (with Retry-After) when too many requests wait, 504 after a request's `timeout_ms`.

Example (tritonclient):
```python
import numpy as np
import tritonclient.http as httpclient

client = httpclient.InferenceServerClient("127.0.0.1:8000")
text = httpclient.InferInput("text", [1], "BYTES")
text.set_data_from_numpy(np.array(["forty-two"], dtype=object))
result = client.infer("translator", [text], parameters={"strategy": "beam"})
result.as_numpy("translation")  # array([b'42'], dtype=object)
```
"""

import json
from importlib import metadata

import numpy as np

from kzoo.serve.client_error import ClientError
from kzoo.serve.request_checks import (
    check_batch_size,
    check_texts,
    decoding_options,
    describe_problems,
)
from kzoo.serve.schemas import integral
from kzoo.serve.v2_tensors import HEADER_LENGTH, encode_tensor, split_body, tensor_array

MODEL_VERSION = "1"
LABEL_OUTPUTS = (("label", "BYTES"), ("label_id", "INT64"), ("probabilities", "FP32"))
OUTPUTS = {
    "translation": (("translation", "BYTES"),),
    "language_modeling": (("continuation", "BYTES"),),
    "classification": LABEL_OUTPUTS,
    "image_classification": LABEL_OUTPUTS,
    "tagging": (("tags", "BYTES"),),
}
EXTENSIONS = ["binary_tensor_data"]


def _server_version():
    try:
        return metadata.version("kzoo")
    except metadata.PackageNotFoundError:
        return "0"


def model_metadata(model, name):
    """The V2 model metadata of `model` (a `BundleModel`) served as `name`."""
    if model.kind == "image_classification":
        shape = model.backend.input_shapes("serving_default")["images"]
        inputs = [{"name": "images", "datatype": "FP32", "shape": [-1 if d is None else d for d in shape]}]
    else:
        inputs = [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    classes = len(model.label_names) if model.label_names else -1
    outputs = [{"name": output, "datatype": datatype, "shape": [-1, classes] if output == "probabilities" else [-1]}
               for output, datatype in OUTPUTS.get(model.kind, ())]
    return {"name": name, "versions": [MODEL_VERSION], "platform": f"kzoo_{model.backend_name}",
            "inputs": inputs, "outputs": outputs}


def add_open_inference_routes(app, served):
    """Adds the /v2 routes to `app` (a FastAPI app) for `served` (a `ServedModel`)."""
    from typing import Annotated

    from fastapi import Path, Request, Response
    from pydantic import ValidationError

    model, name, schemas = served.model, served.name, served.schemas
    signature = model_metadata(model, name)
    options_schema = schemas["TranslateOptions"] if model.kind == "translation" else schemas["DecodingOptions"]
    common = {"tags": ["Open Inference Protocol (V2)"], "dependencies": served.bearer, "responses": served.responses}

    def check_model(model_name, model_version=None):
        if model_name != name:
            raise ClientError(404, f"Unknown model {model_name[:60]!r}; this server serves {name!r}.")
        if model_version is not None and model_version != MODEL_VERSION:
            raise ClientError(404, f"Model {name!r} has no version {model_version[:20]!r}; its only version is "
                                   f"{MODEL_VERSION!r}.")

    @app.get("/v2", summary="Server metadata", response_model=schemas["ServerMetadata"], **common)
    async def server_metadata():
        return {"name": "kzoo", "version": _server_version(), "extensions": EXTENSIONS}

    @app.get("/v2/health/live", summary="Server liveness", response_model=schemas["LiveResponse"], **common)
    async def live():
        return {"live": True}

    @app.get("/v2/health/ready", summary="Server readiness", response_model=schemas["ReadyResponse"], **common)
    async def ready():
        return {"ready": True}

    # The schema names the one model and version; other names are answered 404 (not 422), as the protocol says.
    ModelName = Annotated[str, Path(json_schema_extra={"enum": [name]})]
    ModelVersion = Annotated[str, Path(json_schema_extra={"enum": [MODEL_VERSION]})]

    @app.get("/v2/models/{model_name}", summary="Model metadata", response_model=schemas["ModelMetadata"], **common)
    async def metadata_route(model_name: ModelName):
        check_model(model_name)
        return signature

    @app.get("/v2/models/{model_name}/versions/{model_version}", summary="Model metadata (of a version)",
             response_model=schemas["ModelMetadata"], **common)
    async def version_metadata(model_name: ModelName, model_version: ModelVersion):
        check_model(model_name, model_version)
        return signature

    @app.get("/v2/models/{model_name}/ready", summary="Model readiness",
             response_model=schemas["ModelReadyResponse"], **common)
    async def model_ready(model_name: ModelName):
        check_model(model_name)
        return {"name": name, "ready": True}

    @app.get("/v2/models/{model_name}/versions/{model_version}/ready", summary="Model readiness (of a version)",
             response_model=schemas["ModelReadyResponse"], **common)
    async def version_ready(model_name: ModelName, model_version: ModelVersion):
        check_model(model_name, model_version)
        return {"name": name, "ready": True}

    infer_body = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": _request_schema(signature, model, options_schema)},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"},
                                     "description": "The binary tensor data extension: a JSON header "
                                                    "(Inference-Header-Content-Length bytes), then raw tensors."},
    }}}

    @app.post("/v2/models/{model_name}/infer", summary="Run the model", response_model=schemas["InferenceResponse"],
              openapi_extra=infer_body, **common)
    async def infer(model_name: ModelName, request: Request):
        return await _infer(request, model_name)

    @app.post("/v2/models/{model_name}/versions/{model_version}/infer", summary="Run the model (of a version)",
              response_model=schemas["InferenceResponse"], openapi_extra=infer_body, **common)
    async def version_infer(model_name: ModelName, model_version: ModelVersion, request: Request):
        return await _infer(request, model_name, model_version)

    async def _infer(request, model_name, model_version=None):
        check_model(model_name, model_version)
        header, raw = split_body(await request.body(), request.headers.get(HEADER_LENGTH))
        try:
            parsed = schemas["InferenceRequest"].model_validate(header)
        except ValidationError as error:
            raise ClientError(400, "Invalid inference request: " + describe_problems(error.errors()) + ".") from None
        try:
            outputs, binary = await _run(parsed, raw)
        except ClientError as error:
            raise ClientError(400 if error.status == 422 else error.status, error.message, error.limit) from None
        return _response(parsed, outputs, binary, Response)

    async def _run(parsed, raw):
        expected = signature["inputs"][0]
        names = [tensor.name for tensor in parsed.inputs]
        if names != [expected["name"]]:
            raise ClientError(400, f"Model {name!r} takes one input {expected['name']!r} ({expected['datatype']}, "
                                   f"shape {expected['shape']}); received {names}.")
        tensor = parsed.inputs[0]
        if tensor.datatype != expected["datatype"] or len(tensor.shape) != len(expected["shape"]):
            raise ClientError(400, f"Input {tensor.name!r} must be {expected['datatype']} of shape {expected['shape']}; "
                                   f"received {tensor.datatype} of shape {tensor.shape}.")
        value, _ = tensor_array(tensor.model_dump(exclude_none=True), raw)
        if len(value) == 0:
            raise ClientError(400, f"Input {tensor.name!r} is empty; send at least one row.")
        if tensor.datatype == "FP32" and not (np.all(np.isfinite(value)) and value.min() >= 0 and value.max() <= 1):
            raise ClientError(400, f"Input {tensor.name!r} holds pixels outside [0, 1]; scale them to [0, 1].")
        parameters = dict(parsed.parameters or {})
        binary = parameters.pop("binary_data_output", False)
        timeout_ms = integral(parameters.pop("timeout_ms", None))
        if timeout_ms is not None and (type(timeout_ms) is not int or not 0 < timeout_ms <= 3_600_000):
            raise ClientError(400, "Parameter timeout_ms must be an integer number of milliseconds in 1..3600000.")
        if not isinstance(binary, bool):
            raise ClientError(400, "Parameter binary_data_output must be true or false.")
        requested = {output.name: (output.parameters or {}).get("binary_data", binary) for output in parsed.outputs or ()}
        offered = [output["name"] for output in signature["outputs"]]
        unknown = [output for output in requested if output not in offered]
        if unknown:
            raise ClientError(400, f"Model {name!r} has no output {unknown[0]!r}; its outputs are {offered}.")
        results = await _task_outputs(value, parameters, timeout_ms)
        chosen = requested or {output: binary for output in offered}
        return [(output, datatype, results[output], chosen[output])
                for output, datatype in OUTPUTS[model.kind] if output in chosen], binary

    async def _task_outputs(value, parameters, timeout_ms):
        if model.generative:
            try:
                options = options_schema.model_validate(parameters)
            except ValidationError as error:
                raise ClientError(400, "Invalid parameters: " + describe_problems(error.errors()) + ".") from None
            options = decoding_options(options, model, served.limits, seq2seq=model.seq2seq)
        elif parameters:
            raise ClientError(400, f"Model {name!r} ({model.kind}) takes no parameters; received "
                                   f"{sorted(parameters)}.")
        if model.kind == "image_classification":
            check_batch_size(len(value), served.limits)
            return _labels(await served.infer(model.classify, value, timeout_ms=timeout_ms))
        check_texts("text", value, served.limits)
        if model.kind == "translation":
            return {"translation": await served.infer.decode(value, timeout_ms=timeout_ms, **options)}
        if model.kind == "language_modeling":
            options["max_new_tokens"] = options["max_new_tokens"] or model.default_max_new_tokens
            return {"continuation": await served.infer.decode(value, timeout_ms=timeout_ms, **options)}
        if model.kind == "tagging":
            tags = await served.infer(model.tag, value, truncate=False, timeout_ms=timeout_ms)
            return {"tags": [json.dumps(row, ensure_ascii=False) for row in tags]}
        return _labels(await served.infer(model.classify, value, truncate=False, timeout_ms=timeout_ms))

    def _response(parsed, outputs, binary, response_class):
        tensors, chunks = [], []
        for output, datatype, value, as_binary in outputs:
            tensor, chunk = encode_tensor(output, datatype, value, bool(as_binary))
            tensors.append(tensor)
            if chunk is not None:
                chunks.append(chunk)
        body = {"model_name": name, "model_version": MODEL_VERSION, "outputs": tensors}
        if parsed.id is not None:
            body["id"] = parsed.id
        header = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if not chunks:
            return response_class(header, media_type="application/json")
        return response_class(header + b"".join(chunks), media_type="application/octet-stream",
                              headers={"Inference-Header-Content-Length": str(len(header))})


def _request_schema(signature, model, options_schema):
    """The JSON Schema of this model's inference requests: its input, its outputs, its parameters.

    The protocol's generic request (`InferenceRequest`) narrowed to what this
    model takes. One rule JSON Schema cannot state: `data` must hold as many
    elements as `shape` says.
    """
    tensor = signature["inputs"][0]
    rank = len(tensor["shape"])
    if tensor["datatype"] == "BYTES":
        element = {"type": "string", "pattern": r"\S"}
    else:
        element = {"type": "number"}
    data = element
    for _ in range(rank):
        data = {"type": "array", "minItems": 1, "items": data}
    given = {"timeout_ms": {"type": "integer", "exclusiveMinimum": 0, "maximum": 3_600_000},
             "binary_data_output": {"type": "boolean"}}
    parameters = {"type": "object", "additionalProperties": False, "properties": given}
    if model.generative:
        parameters = options_schema.model_json_schema()
        parameters["properties"].update(given)
        parameters.pop("title", None)
    return {
        "type": "object", "additionalProperties": False, "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": parameters,
            "inputs": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": ["name", "datatype", "shape", "data"],
                "properties": {
                    "name": {"const": tensor["name"]}, "datatype": {"const": tensor["datatype"]},
                    "shape": {"type": "array", "minItems": rank, "maxItems": rank,
                              "items": {"type": "integer", "minimum": 1}},
                    "data": data,
                }}},
            "outputs": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["name"],
                "properties": {"name": {"enum": [output["name"] for output in signature["outputs"]]},
                               "parameters": {"type": "object", "additionalProperties": False,
                                              "properties": {"binary_data": {"type": "boolean"}}}}}},
        },
    }


def _labels(predictions):
    return {
        "label": [row["label"] for row in predictions],
        "label_id": np.asarray([row["label_id"] for row in predictions], "int64"),
        "probabilities": np.asarray([row["probabilities"] for row in predictions], "float32"),
    }
