"""`create_app(model)`: the HTTP API over a loaded bundle (FastAPI, no TensorFlow).

Endpoints (OpenAPI docs at `/docs`, schema at `/openapi.json`):

- `POST /v1/translate`, `/v1/classify`, `/v1/tag` or `/v1/generate`: the one the
  bundle's task offers (see `kzoo.runtime.BundleModel`); the body is a JSON
  object, e.g. `{"texts": ["forty-two"], "strategy": "beam"}`, the answer is what
  the runtime returns for the same inputs.
- `GET /v1/model`: the bundle's manifest.
- `/v2/...`: the KServe V2 / Open Inference Protocol (`kzoo.serve.open_inference`).
- `GET /healthz`: `{"status": "ok", "task": ..., "in_flight": n}` once the bundle is
  loaded (`in_flight`: `/v1/` and `/v2` requests being handled, e.g. to watch a drain).

With an API key every `/v1/` and `/v2` request needs `Authorization: Bearer <key>`;
`/healthz` and the docs stay open. Limits on the request body size, the batch size, the characters per text,
the tokens per text (the bundle's own `max_sequence_length`), `max_new_tokens` and
`num_beams` are each answered with a 413 whose JSON names the limit. Every client
mistake gets a 4xx JSON answer `{"error": "<one sentence>"}` (plus `"limit"` for a
limit): 400 empty body, invalid JSON or non-UTF-8 bytes; 401 missing or wrong
token; 404 unknown task; 405 wrong method (with `Allow`); 413 a limit; 422 wrong
types, empty strings or bad options (on /v2, the protocol's 400). A 500 means a bug. Bodies are read as JSON whatever their
Content-Type says.

Inference runs in worker threads (`concurrency`, default the CPU count) over one
shared `BundleModel`, whose ONNX Runtime sessions are created once.
`kzoo.serve.command` runs the app with uvicorn (`kzoo serve`).

Example:
```python
app = create_app(load("saved_models/translator"), api_key="secret")
uvicorn.run(app, host="127.0.0.1", port=8000)
```
"""

import logging
import os

from kzoo.serve.batching_options import BatchingOptions
from kzoo.serve.client_error import ClientError, error_body
from kzoo.serve.event_stream import token_events
from kzoo.serve.guard import Guard
from kzoo.serve.inference_runner import InferenceRunner
from kzoo.serve.open_inference import add_open_inference_routes
from kzoo.serve.request_checks import (
    check_batch_size,
    check_texts,
    decoding_options,
    describe_problems,
)
from kzoo.serve.request_metrics import RequestMetrics
from kzoo.serve.schemas import schemas as build_schemas
from kzoo.serve.served_model import ServedModel
from kzoo.serve.server_metrics import ServerMetrics

DEFAULT_LIMITS = {
    "max_body_bytes": 1 << 20,
    "max_batch_size": 32,
    "max_text_chars": 4096,
    "max_num_beams": 8,
    "max_queue": 64,
}
TASK_ROUTES = {"translate": "translation", "classify": "classification", "tag": "tagging", "generate": "language_modeling"}
logger = logging.getLogger("kzoo.serve")


def create_app(model, api_key=None, limits=None, concurrency=None, model_name=None, batching=BatchingOptions(),
               max_connections=None):
    """The ASGI app serving `model` (a loaded `BundleModel`).

    Args:
        model: `kzoo.runtime.BundleModel`.
        api_key: str or None. Bearer token every `/v1/` request must send.
        limits: dict overriding `DEFAULT_LIMITS` (max_body_bytes, max_batch_size,
            max_text_chars, max_num_beams, max_queue).
        concurrency: int or None. Inference calls run at once (default: CPU count).
        model_name: str or None. The model's name on /v2 (default: the bundle folder's name).
        batching: `BatchingOptions` or None. Dynamic batching across requests (None: one request per call).
        max_connections: int or None. Requests handled at once; more get a JSON 503 with Retry-After.

    Returns:
        A FastAPI app (with `Guard` as its outermost middleware).

    Example:
    ```python
    app = create_app(load("saved_models/translator"), api_key="secret")
    uvicorn.run(app, host="127.0.0.1", port=8000)
    ```
    """
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from fastapi.security import HTTPBearer
    from starlette.exceptions import HTTPException

    from kzoo.serve.event_stream_response import EventStreamResponse

    limits = {**DEFAULT_LIMITS, **(limits or {})}
    image_shape = None
    if model.kind == "image_classification":
        image_shape = model.backend.input_shapes("serving_default")["images"][1:]
    schemas = build_schemas(getattr(model.tokenizer, "target_languages", ()) if model.kind == "translation" else (),
                            image_shape)
    metrics = ServerMetrics()
    infer = InferenceRunner(model, concurrency or os.cpu_count() or 1, limits["max_queue"], batching, metrics)
    counters = {"in_flight": 0}
    name = model_name or model.path.name
    routes = {method: kind for method, kind in TASK_ROUTES.items() if method in model.tasks}
    app = FastAPI(
        title=f"kzoo serve: {name}",
        version=str(model.manifest.get("manifest_version", "")),
        description=f"A {model.family} bundle ({model.kind or 'no task'}) served with ONNX Runtime. "
                    f"Task endpoint: {', '.join(f'POST /v1/{m}' for m in routes) or 'none'}.",
    )
    # Documents the scheme in OpenAPI; `Guard` enforces it before the body is read.
    bearer = [] if api_key is None else [Depends(HTTPBearer(auto_error=False))]
    error_responses = {
        status: {"model": schemas["ErrorResponse"], "description": text}
        for status, text in ((400, "Bad body"), (401, "Missing or wrong token"), (413, "A limit was exceeded"),
                             (422, "Invalid request"), (503, "Busy: too many requests waiting (with Retry-After)"),
                             (504, "Not answered within the request's timeout_ms"))
    }
    stream_responses = {**error_responses, 200: {"content": {"text/event-stream": {"schema": {
        "type": "object", "required": ["event", "data"],
        "description": "With stream=true, each Server-Sent Event (see kzoo.serve.event_stream): `token` "
                       "{index, text}, then `done` {<output>, timings}, or `error` {error}; data is JSON.",
        "properties": {"event": {"enum": ["token", "done", "error"]}, "data": {"type": "string"}}}}}}}
    v2_responses = {status: answer for status, answer in error_responses.items() if status != 422}
    v2_responses[404] = {"model": schemas["ErrorResponse"], "description": "Unknown model or version"}

    def stream(texts, options, key, timeout_ms, single=False):
        infer.check_decodable(texts, **options)  # Refused with a status code while one can still be sent.
        return EventStreamResponse(token_events(infer, model, texts, options, key, timeout_ms, single))

    @app.exception_handler(ClientError)
    async def client_error(request, error):
        return JSONResponse(error_body(error.message, error.limit), status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, error):
        problems = error.errors()
        for problem in problems:
            if problem.get("type") == "json_invalid":
                detail = problem.get("ctx", {}).get("error", "")
                return JSONResponse(error_body(f"The request body is not valid JSON ({detail})."), status_code=400)
            if problem.get("type") == "missing" and tuple(problem.get("loc", ())) == ("body",):
                return JSONResponse(error_body(
                    f"The request body is empty; {request.url.path} takes a JSON object (see /docs)."), status_code=400)
        return JSONResponse(error_body(f"Invalid request: {describe_problems(problems)}."), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        if error.status_code == 404:
            message = f"There is no {request.url.path}; this server answers " + ", ".join(
                [f"POST /v1/{m}" for m in routes]
                + ["GET /v1/model", f"/v2/models/{name} (Open Inference Protocol)", "GET /healthz", "GET /docs"]) + "."
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        else:
            message = str(error.detail)
        return JSONResponse(error_body(message), status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request, error):
        logger.exception("Unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("Internal server error; see the server log."), status_code=500)

    @app.get("/healthz", tags=["server"], summary="Liveness: 200 once the bundle is loaded; /v1/ requests in flight")
    async def healthz():
        return {"status": "ok", "task": model.kind, "in_flight": counters["in_flight"]}

    @app.get("/metrics", tags=["server"], summary="Prometheus metrics (every worker's, summed)", dependencies=bearer,
             response_class=Response, responses={**error_responses, 200: {"content": {"text/plain": {}}}})
    async def metrics_route():
        infer.report()
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    @app.get("/v1/model", tags=["server"], summary="The bundle's manifest", dependencies=bearer, responses=error_responses)
    async def manifest():
        return JSONResponse(model.manifest)

    if "translate" in routes:
        @app.post("/v1/translate", tags=["tasks"], summary="Translate texts", dependencies=bearer,
                  response_model=schemas["TranslateResponse"], responses=stream_responses)
        async def translate(request: schemas["TranslateRequest"]):
            check_texts("texts", request.texts, limits)
            options = decoding_options(request, model, limits, seq2seq=True)
            if request.stream:
                return stream(request.texts, options, "translations", request.timeout_ms)
            return {"translations": await infer.decode(request.texts, timeout_ms=request.timeout_ms, **options)}

    if "generate" in routes:
        @app.post("/v1/generate", tags=["tasks"], summary="Continue a prompt", dependencies=bearer,
                  response_model=schemas["GenerateResponse"], responses=stream_responses)
        async def generate(request: schemas["GenerateRequest"]):
            prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
            check_texts("prompt", prompts, limits)
            options = decoding_options(request, model, limits, seq2seq=False)
            options["max_new_tokens"] = options["max_new_tokens"] or model.default_max_new_tokens
            single = isinstance(request.prompt, str)
            if request.stream:
                return stream(prompts, options, "text", request.timeout_ms, single)
            texts = await infer.decode(prompts, timeout_ms=request.timeout_ms, **options)
            return {"text": texts[0] if single else texts}

    if "classify" in routes and model.kind == "image_classification":
        @app.post("/v1/classify", tags=["tasks"], summary="Classify images", dependencies=bearer,
                  response_model=schemas["ClassifyResponse"], responses=error_responses)
        async def classify_images(request: schemas["ImagesRequest"]):
            check_batch_size(len(request.images), limits)
            predictions = await infer(model.classify, request.images, timeout_ms=request.timeout_ms)
            return {"predictions": predictions, "label_names": model.label_names}
    elif "classify" in routes:
        @app.post("/v1/classify", tags=["tasks"], summary="Classify texts", dependencies=bearer,
                  response_model=schemas["ClassifyResponse"], responses=error_responses)
        async def classify(request: schemas["TextsRequest"]):
            check_texts("texts", request.texts, limits)
            predictions = await infer(model.classify, request.texts, timeout_ms=request.timeout_ms, truncate=False)
            return {"predictions": predictions, "label_names": model.label_names}

    if "tag" in routes:
        @app.post("/v1/tag", tags=["tasks"], summary="Tag every word of texts", dependencies=bearer,
                  response_model=schemas["TagResponse"], responses=error_responses)
        async def tag(request: schemas["TextsRequest"]):
            check_texts("texts", request.texts, limits)
            tags = await infer(model.tag, request.texts, timeout_ms=request.timeout_ms, truncate=False)
            return {"tags": tags, "label_names": model.label_names}

    add_open_inference_routes(app, ServedModel(model=model, name=name, limits=limits, infer=infer, schemas=schemas,
                                               bearer=bearer, responses=v2_responses))
    _document_schemas(app, schemas, ("InferenceRequest",))

    @app.post("/v1/{task}", include_in_schema=False)
    async def unknown_task(task: str, request: Request):
        if task == "model":
            raise ClientError(405, "POST is not allowed on /v1/model; use GET.", headers={"Allow": "GET"})
        offered = ", ".join(f"POST /v1/{m}" for m in routes) or "no task endpoint"
        if task in TASK_ROUTES:
            raise ClientError(404, f"This bundle's task is {model.kind or 'unknown'} ({model.family}); it answers "
                               f"{offered}, not POST /v1/{task}.")
        raise ClientError(404, f"Unknown task {task[:40]!r}; this server answers {offered}.")

    app.state.runner = infer  # For tests and metrics: queue depth, calls and rows sent.
    app.add_middleware(Guard, max_body_bytes=limits["max_body_bytes"], api_key=api_key, counters=counters,
                       max_requests=max_connections)
    app.add_middleware(RequestMetrics, metrics=metrics, router=app.router)  # Outermost: counts the Guard's answers.
    return app


def _document_schemas(app, schemas, names):
    """Adds pydantic schemas that routes reading raw bodies refer to (`#/components/schemas/NAME`) to OpenAPI."""
    from fastapi.openapi.utils import get_openapi

    def openapi():
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for schema_name in names:
                schema = schemas[schema_name].model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(schema.pop("$defs", {}))
                components[schema_name] = schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi
