"""`kzoo serve BUNDLE`: an HTTP server over a bundle's ONNX export (FastAPI + uvicorn, no TensorFlow).

Endpoints (OpenAPI docs at `/docs`, schema at `/openapi.json`):

- `POST /v1/translate`, `/v1/classify`, `/v1/tag` or `/v1/generate`: the one the
  bundle's task offers (see `export.runtime.BundleModel`); the body is a JSON
  object, e.g. `{"texts": ["forty-two"], "strategy": "beam"}`, the answer is what
  the runtime returns for the same inputs.
- `GET /v1/model`: the bundle's manifest.
- `GET /healthz`: `{"status": "ok", "task": ..., "in_flight": n}` once the bundle is
  loaded (`in_flight`: `/v1/` requests being handled, e.g. to watch a drain).

The server binds 127.0.0.1 unless `--host` says otherwise. With `--api-key` (or
the `KZOO_API_KEY` environment variable, which keeps the key out of `ps`) every
`/v1/` request needs `Authorization: Bearer <key>`; `/healthz` and the docs stay
open. Limits on the request body size, the batch size, the characters per text,
the tokens per text (the bundle's own `max_sequence_length`), `max_new_tokens` and
`num_beams` are each answered with a 413 whose JSON names the limit. Every client
mistake gets a 4xx JSON answer `{"error": "<one sentence>"}` (plus `"limit"` for a
limit): 400 empty body, invalid JSON or non-UTF-8 bytes; 401 missing or wrong
token; 404 unknown task; 405 wrong method; 413 a limit; 422 wrong types, empty
strings or bad options. A 500 means a bug. Bodies are read as JSON whatever their
Content-Type says.

Inference runs in worker threads (`--concurrency`, default the CPU count) over one
shared `BundleModel`, whose ONNX Runtime sessions are created once. On SIGTERM or
Ctrl-C uvicorn stops accepting connections and lets requests in flight finish
(up to `--graceful-timeout` seconds); then the process exits with status 0 (130
after Ctrl-C).

Example:
```
KZOO_API_KEY=secret python -m export.serve saved_models/translator --port 8000
curl -s -H 'Authorization: Bearer secret' -d '{"texts": ["forty-two"]}' 127.0.0.1:8000/v1/translate
```
"""

import argparse
import functools
import hmac
import logging
import os
import signal
import sys
from typing import Literal, Optional, Union

from export.runtime import BundleError, InputTooLongError, UnsupportedTaskError, load

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
API_KEY_ENV = "KZOO_API_KEY"
DEFAULT_LIMITS = {
    "max_body_bytes": 1 << 20,
    "max_batch_size": 32,
    "max_text_chars": 4096,
    "max_num_beams": 8,
}
TASK_ROUTES = {"translate": "translation", "classify": "classification", "tag": "tagging", "generate": "language_modeling"}
_DRAIN_LIMIT = 16 << 20  # Bytes of an oversized body read (and dropped) so the client sees the 413.
logger = logging.getLogger("kzoo.serve")


class _ClientError(Exception):
    """A client mistake: answered with `status` and `{"error": message[, "limit": limit]}`."""

    def __init__(self, status, message, limit=None):
        super().__init__(message)
        self.status, self.message, self.limit = status, message, limit


def _error_body(message, limit=None):
    body = {"error": message}
    if limit:
        body["limit"] = limit
    return body


# ----------------------------------------------------------------------------- raw ASGI guard


class _Guard:
    """ASGI middleware in front of the app: bearer-token check, body size, JSON content type, UTF-8.

    It runs before FastAPI parses anything, so an unauthenticated or oversized
    request costs no parsing, and a non-UTF-8 body is refused with its own message.
    """

    def __init__(self, app, api_key=None, max_body_bytes=DEFAULT_LIMITS["max_body_bytes"], counters=None):
        self.app = app
        self.api_key = api_key.encode("utf-8") if api_key else None
        self.max_body_bytes = max_body_bytes
        self.counters = counters if counters is not None else {"in_flight": 0}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
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
                return await _send_json(send, 401, _error_body(problem), [(b"www-authenticate", b'Bearer realm="kzoo"')])
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        # Every /v1/ body is JSON, whatever Content-Type says (curl -d sends form-urlencoded).
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
                     + [(b"content-type", b"application/json")])
        declared = headers.get(b"content-length")
        too_big = _error_body(f"The request body is larger than max_body_bytes={self.max_body_bytes}.", "max_body_bytes")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _drain(receive, _DRAIN_LIMIT)
            return await _send_json(send, 413, too_big)
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
                return await _send_json(send, 413, too_big)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            return await _send_json(send, 400, _error_body(
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


async def _send_json(send, status, body, headers=()):
    import json

    payload = json.dumps(body).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": payload})


# ----------------------------------------------------------------------------- request and response schemas


def _schemas():
    """Pydantic request/response models (built lazily so `import export.serve` stays light)."""
    from pydantic import BaseModel, ConfigDict, Field, model_validator

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

    class DecodingOptions(_Strict):
        max_new_tokens: Optional[int] = Field(None, gt=0, description="Most tokens to generate (default: the bundle's).")
        strategy: Literal["greedy", "beam", "top_k", "top_p"] = "greedy"
        num_beams: int = Field(4, gt=0, description="Beam width for strategy=beam.")
        length_penalty: float = Field(0.0, ge=-10.0, le=10.0, allow_inf_nan=False, description="GNMT alpha for beam search.")
        top_k: Optional[int] = Field(None, gt=0, description="For strategy=top_k (and optionally top_p).")
        top_p: Optional[float] = Field(None, gt=0.0, le=1.0, allow_inf_nan=False, description="For strategy=top_p.")
        temperature: float = Field(1.0, gt=0.0, le=100.0, allow_inf_nan=False)
        seed: Optional[int] = Field(None, ge=0, lt=2**63, description="Makes sampling reproducible.")

        @model_validator(mode="after")
        def _strategy_needs(self):
            if self.strategy == "top_k" and self.top_k is None:
                raise ValueError("strategy='top_k' needs top_k, e.g. 10")
            if self.strategy == "top_p" and self.top_p is None:
                raise ValueError("strategy='top_p' needs top_p, e.g. 0.9")
            return self

    class TranslateRequest(DecodingOptions):
        texts: list[str] = Field(..., min_length=1, description="Source texts.", examples=[["forty-two"]])

    class GenerateRequest(DecodingOptions):
        prompt: Union[str, list[str]] = Field(..., description="A prompt, or a list of prompts.", examples=["The module"])
        max_new_tokens: Optional[int] = Field(
            None, gt=0, description="Most new tokens (default 32, or fewer if the bundle decodes fewer)."
        )

    class TextsRequest(_Strict):
        texts: list[str] = Field(..., min_length=1, examples=[["a sentence to label"]])

    class ImagesRequest(_Strict):
        images: list[list[list[list[float]]]] = Field(..., min_length=1, description="Images [B, H, W, C] in [0, 1].")

    class TranslateResponse(BaseModel):
        translations: list[str]

    class GenerateResponse(BaseModel):
        text: Union[str, list[str]] = Field(..., description="The continuation (a list for a list of prompts).")

    class Prediction(BaseModel):
        label: str
        label_id: int
        probabilities: list[float]

    class ClassifyResponse(BaseModel):
        predictions: list[Prediction]
        label_names: Optional[list[str]]

    class WordTag(BaseModel):
        word: str
        tag: Optional[str]
        tag_id: Optional[int]
        score: Optional[float]

    class TagResponse(BaseModel):
        tags: list[list[WordTag]]
        label_names: Optional[list[str]]

    class ErrorResponse(BaseModel):
        error: str
        limit: Optional[str] = None

    return {name: value for name, value in locals().items() if isinstance(value, type)}


# ----------------------------------------------------------------------------- the app


def _check_texts(name, texts, limits):
    if len(texts) > limits["max_batch_size"]:
        raise _ClientError(413, f"{len(texts)} items exceed max_batch_size={limits['max_batch_size']}; split the batch.",
                           "max_batch_size")
    for index, text in enumerate(texts):
        if not text.strip():
            raise _ClientError(422, f"{name}[{index}] is empty; send non-empty strings.")
        if len(text) > limits["max_text_chars"]:
            raise _ClientError(413, f"{name}[{index}] has {len(text)} characters, more than max_text_chars="
                               f"{limits['max_text_chars']}.", "max_text_chars")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _ClientError(422, f"{name}[{index}] is not valid Unicode (it holds a lone surrogate escape).") from None


def _decoding_options(request, model, limits, seq2seq):
    options = request.model_dump(exclude={"texts", "prompt"})
    if options["strategy"] == "beam" and options["num_beams"] > limits["max_num_beams"]:
        raise _ClientError(413, f"num_beams={options['num_beams']} exceeds max_num_beams={limits['max_num_beams']}.",
                           "max_num_beams")
    most = model.max_length if seq2seq else model.max_length - 1
    if options["max_new_tokens"] is not None and options["max_new_tokens"] > most:
        raise _ClientError(413, f"max_new_tokens={options['max_new_tokens']} exceeds this bundle's limit of {most}.",
                           "max_new_tokens")
    return options


def create_app(model, api_key=None, limits=None, concurrency=None):
    """The ASGI app serving `model` (a loaded `BundleModel`).

    Args:
        model: `export.runtime.BundleModel`.
        api_key: str or None. Bearer token every `/v1/` request must send.
        limits: dict overriding `DEFAULT_LIMITS` (max_body_bytes, max_batch_size,
            max_text_chars, max_num_beams).
        concurrency: int or None. Inference calls run at once (default: CPU count).

    Returns:
        A FastAPI app (with `_Guard` as its outermost middleware).

    Example:
    ```python
    app = create_app(load("saved_models/translator"), api_key="secret")
    uvicorn.run(app, host="127.0.0.1", port=8000)
    ```
    """
    import anyio
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPBearer
    from starlette.exceptions import HTTPException

    limits = {**DEFAULT_LIMITS, **(limits or {})}
    schemas = _schemas()
    limiter = anyio.CapacityLimiter(concurrency or os.cpu_count() or 1)
    counters = {"in_flight": 0}
    name = model.path.name
    routes = {method: kind for method, kind in TASK_ROUTES.items() if method in model.tasks}
    app = FastAPI(
        title=f"kzoo serve: {name}",
        version=str(model.manifest.get("manifest_version", "")),
        description=f"A {model.family} bundle ({model.kind or 'no task'}) served with ONNX Runtime. "
                    f"Task endpoint: {', '.join(f'POST /v1/{m}' for m in routes) or 'none'}.",
    )
    # Documents the scheme in OpenAPI; `_Guard` enforces it before the body is read.
    bearer = [] if api_key is None else [Depends(HTTPBearer(auto_error=False))]
    error_responses = {
        status: {"model": schemas["ErrorResponse"], "description": text}
        for status, text in ((400, "Bad body"), (401, "Missing or wrong token"), (413, "A limit was exceeded"),
                             (422, "Invalid request"))
    }

    async def infer(function, *args, **kwargs):
        try:
            return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=limiter)
        except InputTooLongError as error:
            raise _ClientError(413, str(error).replace(" (or pass truncate=True)", ""), error.limit_name) from None
        except (UnsupportedTaskError, ValueError, TypeError) as error:
            raise _ClientError(422, str(error)) from None

    @app.exception_handler(_ClientError)
    async def client_error(request, error):
        return JSONResponse(_error_body(error.message, error.limit), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, error):
        problems = error.errors()
        for problem in problems:
            if problem.get("type") == "json_invalid":
                detail = problem.get("ctx", {}).get("error", "")
                return JSONResponse(_error_body(f"The request body is not valid JSON ({detail})."), status_code=400)
            if problem.get("type") == "missing" and tuple(problem.get("loc", ())) == ("body",):
                return JSONResponse(_error_body(
                    f"The request body is empty; {request.url.path} takes a JSON object (see /docs)."), status_code=400)
        messages = []
        for problem in problems[:3]:
            where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
            text = problem.get("msg", "invalid value").removeprefix("Value error, ")
            messages.append(f"{where}: {text}" if where else text)
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return JSONResponse(_error_body("Invalid request: " + "; ".join(messages) + more + "."), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        if error.status_code == 404:
            message = f"There is no {request.url.path}; this server answers " + ", ".join(
                [f"POST /v1/{m}" for m in routes] + ["GET /v1/model", "GET /healthz", "GET /docs"]) + "."
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        else:
            message = str(error.detail)
        return JSONResponse(_error_body(message), status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request, error):
        logger.exception("Unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(_error_body("Internal server error; see the server log."), status_code=500)

    @app.get("/healthz", tags=["server"], summary="Liveness: 200 once the bundle is loaded; /v1/ requests in flight")
    async def healthz():
        return {"status": "ok", "task": model.kind, "in_flight": counters["in_flight"]}

    @app.get("/v1/model", tags=["server"], summary="The bundle's manifest", dependencies=bearer, responses=error_responses)
    async def manifest():
        return JSONResponse(model.manifest)

    if "translate" in routes:
        @app.post("/v1/translate", tags=["tasks"], summary="Translate texts", dependencies=bearer,
                  response_model=schemas["TranslateResponse"], responses=error_responses)
        async def translate(request: schemas["TranslateRequest"]):
            _check_texts("texts", request.texts, limits)
            options = _decoding_options(request, model, limits, seq2seq=True)
            return {"translations": await infer(model.translate, request.texts, truncate=False, **options)}

    if "generate" in routes:
        @app.post("/v1/generate", tags=["tasks"], summary="Continue a prompt", dependencies=bearer,
                  response_model=schemas["GenerateResponse"], responses=error_responses)
        async def generate(request: schemas["GenerateRequest"]):
            prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
            _check_texts("prompt", prompts, limits)
            options = _decoding_options(request, model, limits, seq2seq=False)
            options["max_new_tokens"] = options["max_new_tokens"] or min(32, model.max_length - 1)
            return {"text": await infer(model.generate, request.prompt, truncate=False, **options)}

    if "classify" in routes and model.kind == "image_classification":
        @app.post("/v1/classify", tags=["tasks"], summary="Classify images", dependencies=bearer,
                  response_model=schemas["ClassifyResponse"], responses=error_responses)
        async def classify_images(request: schemas["ImagesRequest"]):
            if len(request.images) > limits["max_batch_size"]:
                raise _ClientError(413, f"{len(request.images)} items exceed max_batch_size={limits['max_batch_size']}.",
                                   "max_batch_size")
            predictions = await infer(model.classify, request.images)
            return {"predictions": predictions, "label_names": model.label_names}
    elif "classify" in routes:
        @app.post("/v1/classify", tags=["tasks"], summary="Classify texts", dependencies=bearer,
                  response_model=schemas["ClassifyResponse"], responses=error_responses)
        async def classify(request: schemas["TextsRequest"]):
            _check_texts("texts", request.texts, limits)
            predictions = await infer(model.classify, request.texts, truncate=False)
            return {"predictions": predictions, "label_names": model.label_names}

    if "tag" in routes:
        @app.post("/v1/tag", tags=["tasks"], summary="Tag every word of texts", dependencies=bearer,
                  response_model=schemas["TagResponse"], responses=error_responses)
        async def tag(request: schemas["TextsRequest"]):
            _check_texts("texts", request.texts, limits)
            return {"tags": await infer(model.tag, request.texts, truncate=False), "label_names": model.label_names}

    @app.post("/v1/{task}", include_in_schema=False)
    async def unknown_task(task: str, request: Request):
        if task == "model":
            raise _ClientError(405, "POST is not allowed on /v1/model; use GET.")
        offered = ", ".join(f"POST /v1/{m}" for m in routes) or "no task endpoint"
        if task in TASK_ROUTES:
            raise _ClientError(404, f"This bundle's task is {model.kind or 'unknown'} ({model.family}); it answers "
                               f"{offered}, not POST /v1/{task}.")
        raise _ClientError(404, f"Unknown task {task[:40]!r}; this server answers {offered}.")

    app.add_middleware(_Guard, api_key=api_key, max_body_bytes=limits["max_body_bytes"], counters=counters)
    return app


# ----------------------------------------------------------------------------- command line


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_serve_arguments(parser):
    """Adds `kzoo serve`'s arguments to an `argparse` parser (the CLI's `serve` subcommand)."""
    parser.add_argument("bundle", help="bundle folder written by `kzoo export` (holds manifest.json)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to bind (default {DEFAULT_HOST}; anything else exposes the server beyond this machine)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--backend", choices=("onnx", "tflite"), default="onnx", help="runtime (default onnx)")
    parser.add_argument("--variant", default=None, help="exported variant: fp32 (default), dynamic_int8; tflite also fp16, int8")
    parser.add_argument("--threads", type=_positive, default=1,
                        help="intra-op threads per inference call (default 1: requests run in parallel instead)")
    parser.add_argument("--optimization", choices=("disable", "basic", "extended", "all"), default="all",
                        help="ONNX Runtime graph optimisation level (default all)")
    parser.add_argument("--concurrency", type=_positive, default=None,
                        help="inference calls run at once (default: the CPU count)")
    parser.add_argument("--api-key", default=None,
                        help=f"require 'Authorization: Bearer KEY' on /v1/ (default: ${API_KEY_ENV}, which keeps it out of ps)")
    parser.add_argument("--max-body-bytes", type=_positive, default=DEFAULT_LIMITS["max_body_bytes"],
                        help=f"largest request body (default {DEFAULT_LIMITS['max_body_bytes']})")
    parser.add_argument("--max-batch-size", type=_positive, default=DEFAULT_LIMITS["max_batch_size"],
                        help=f"most texts per request (default {DEFAULT_LIMITS['max_batch_size']})")
    parser.add_argument("--max-text-chars", type=_positive, default=DEFAULT_LIMITS["max_text_chars"],
                        help=f"most characters per text (default {DEFAULT_LIMITS['max_text_chars']})")
    parser.add_argument("--max-num-beams", type=_positive, default=DEFAULT_LIMITS["max_num_beams"],
                        help=f"widest beam search (default {DEFAULT_LIMITS['max_num_beams']})")
    parser.add_argument("--max-connections", type=_positive, default=256,
                        help="concurrent connections before answering 503 (default 256)")
    parser.add_argument("--graceful-timeout", type=float, default=30.0,
                        help="seconds requests in flight get to finish after SIGTERM (default 30)")
    parser.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info")
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    return parser


def run_from_args(args):
    """Loads the bundle and serves it until SIGTERM / Ctrl-C; returns the exit status.

    Bad input (a missing or tampered bundle, a bad option) prints one sentence to
    stderr and returns 2 without starting the server.
    """
    try:
        import uvicorn
    except ImportError:
        print("kzoo serve: the server needs FastAPI and uvicorn: pip install 'kzoo[serve]'", file=sys.stderr)
        return 2
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV) or None
    if not 0 < args.port < 65536:
        print(f"kzoo serve: --port must be in 1..65535; received {args.port}.", file=sys.stderr)
        return 2
    try:
        model = load(args.bundle, backend=args.backend, variant=args.variant, threads=args.threads,
                     optimization=args.optimization)
    except (BundleError, ValueError, ImportError) as error:
        print(f"kzoo serve: {error}", file=sys.stderr)
        return 2
    limits = {"max_body_bytes": args.max_body_bytes, "max_batch_size": args.max_batch_size,
              "max_text_chars": args.max_text_chars, "max_num_beams": args.max_num_beams}
    app = create_app(model, api_key=api_key, limits=limits, concurrency=args.concurrency)
    if args.host not in ("127.0.0.1", "localhost", "::1") and api_key is None:
        print(f"kzoo serve: warning: listening on {args.host} without an API key; set {API_KEY_ENV} to require one.",
              file=sys.stderr)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_level=args.log_level, access_log=not args.no_access_log,
        timeout_graceful_shutdown=args.graceful_timeout, limit_concurrency=args.max_connections,
        server_header=False, lifespan="off",
    )
    server = uvicorn.Server(config)
    # uvicorn drains on SIGTERM, then re-raises the signal through the handler it found
    # installed; this one turns it into a normal exit (status 0) after the drain.
    previous = signal.signal(signal.SIGTERM, lambda number, frame: None) if _main_thread() else None
    try:
        server.run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


def _main_thread():
    import threading

    return threading.current_thread() is threading.main_thread()


def main(argv=None):
    """`python -m export.serve BUNDLE [options]`; the same as `kzoo serve`."""
    parser = argparse.ArgumentParser(prog="kzoo serve", description="Serve a kzoo bundle over HTTP with ONNX Runtime.")
    add_serve_arguments(parser)
    try:
        return run_from_args(parser.parse_args(argv))
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has drained the requests in flight; no traceback.
        return 130


if __name__ == "__main__":
    sys.exit(main())
