"""`kzoo serve BUNDLE`: load a bundle and serve it over HTTP with uvicorn (no TensorFlow).

The server binds 127.0.0.1 unless `--host` says otherwise. With `--api-key` (or the
`KZOO_API_KEY` environment variable, which keeps the key out of `ps`) every `/v1/`
request needs `Authorization: Bearer <key>`. On SIGTERM or Ctrl-C uvicorn stops
accepting connections and lets requests in flight finish (up to
`--graceful-timeout` seconds); then the process exits with status 0 (130 after
Ctrl-C). Bad input (a missing or tampered bundle, a bad option) prints one
sentence and exits with 2 before the server starts.

Requests are batched unless `--no-batching`: whole calls (classify, tag, beam
search) take up to `--batch-rows` rows of requests that arrive together, waiting
at most `--batch-wait-ms` for company while another call runs; greedy and sampled
decoding share decode steps (continuous batching). `--concurrency` is the number
of backend calls (and decoding threads) in flight, `--threads` the intra-op
threads of each: on N cores, `--concurrency N --threads 1` (the default) keeps
every core busy under load. `--workers N` runs N processes sharing the port, each
loading the bundle once (a worker that dies is replaced; its open connections
reset). The bundle is warmed up before the port answers anything.

Example:
```
KZOO_API_KEY=secret python -m kzoo.serve saved_models/translator --port 8000
curl -s -H 'Authorization: Bearer secret' -d '{"texts": ["forty-two"]}' 127.0.0.1:8000/v1/translate
```
"""

import argparse
import json
import os
import signal
import socket as _socket
import sys
import threading

import numpy as np

from kzoo.runtime import BundleError, load
from kzoo.runtime.validation import check_positive_int
from kzoo.serve.app import DEFAULT_LIMITS, create_app
from kzoo.serve.batching_options import BatchingOptions
from kzoo.serve.server_metrics import MULTIPROCESS_ENV

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
API_KEY_ENV = "KZOO_API_KEY"
WORKER_SETTINGS_ENV = "KZOO_SERVE_WORKER_SETTINGS"
TRANSPORT_SLACK = 64  # Connections beyond --max-connections that uvicorn accepts, so the app can answer 503 in JSON.


def _positive(text):
    """argparse type: a positive integer."""
    try:
        return check_positive_int("value", int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None


def _non_negative(text):
    """argparse type: a number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # Also refuses NaN.
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def add_serve_arguments(parser):
    """Adds `kzoo serve`'s arguments to an `argparse` parser (the CLI's `serve` subcommand)."""
    parser.add_argument("bundle", help="bundle folder written by `kzoo export` (holds manifest.json)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to bind (default {DEFAULT_HOST}; anything else exposes the server beyond this machine)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--model-name", default=None,
                        help="the model's name on the /v2 Open Inference Protocol routes (default: the bundle folder's name)")
    parser.add_argument("--backend", choices=("onnx", "tflite"), default="onnx", help="runtime (default onnx)")
    parser.add_argument("--variant", default=None, help="exported variant: fp32 (default), dynamic_int8; onnx also int4; tflite also fp16, int8")
    parser.add_argument("--threads", type=_positive, default=1,
                        help="intra-op threads per inference call (default 1: requests run in parallel instead)")
    parser.add_argument("--optimization", choices=("disable", "basic", "extended", "all"), default="all",
                        help="ONNX Runtime graph optimisation level (default all)")
    parser.add_argument("--concurrency", type=_positive, default=None,
                        help="backend calls in flight (default: the CPU count); each uses --threads threads")
    parser.add_argument("--batch-rows", type=_positive, default=BatchingOptions.rows,
                        help=f"most rows (texts, images) per backend call under batching (default {BatchingOptions.rows})")
    parser.add_argument("--batch-wait-ms", type=_non_negative, default=BatchingOptions.wait_ms,
                        help="longest wait of a request for company while another call runs "
                             f"(default {BatchingOptions.wait_ms:g})")
    parser.add_argument("--no-batching", action="store_true",
                        help="one request per backend call (default: requests arriving together share one)")
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
                        help="requests handled at once before answering 503 in JSON with Retry-After (default 256; "
                             "health checks are always answered)")
    parser.add_argument("--max-queue", type=_positive, default=DEFAULT_LIMITS["max_queue"],
                        help="requests waiting for a backend call before answering 503 with Retry-After "
                             f"(default {DEFAULT_LIMITS['max_queue']})")
    parser.add_argument("--graceful-timeout", type=float, default=30.0,
                        help="seconds requests in flight get to finish after SIGTERM (default 30)")
    parser.add_argument("--workers", type=_positive, default=1,
                        help="server processes sharing the port, each loading the bundle once; one that dies is "
                             "replaced (default 1)")
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
        app = build_app(args, api_key)  # With workers, this one only checks the bundle before they start.
    except (BundleError, ValueError, ImportError) as error:
        print(f"kzoo serve: {error}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1") and api_key is None:
        print(f"kzoo serve: warning: listening on {args.host} without an API key; set {API_KEY_ENV} to require one.",
              file=sys.stderr)
    options = dict(
        host=args.host, port=args.port, log_level=args.log_level, access_log=not args.no_access_log,
        # The app answers --max-connections itself (JSON); uvicorn's plain-text 503 is a backstop beyond it.
        timeout_graceful_shutdown=args.graceful_timeout, limit_concurrency=args.max_connections + TRANSPORT_SLACK,
        server_header=False, lifespan="off",
    )
    if args.workers > 1:
        del app  # Each worker loads its own.
        return _run_workers(args, api_key, options)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    # uvicorn drains on SIGTERM, then re-raises the signal through the handler it found
    # installed; this one turns it into a normal exit (status 0) after the drain.
    previous = signal.signal(signal.SIGTERM, lambda number, frame: None) if _main_thread() else None
    try:
        server.run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


def build_app(args, api_key):
    """Loads the bundle as `args` say, warms it up (one call per task) and returns the ASGI app.

    Warming up before the app exists means a server, or a worker, answers
    nothing (health checks included) until its first real call would be fast.
    """
    model = load(args.bundle, backend=args.backend, variant=args.variant, threads=args.threads,
                 optimization=args.optimization, batch_size=max(args.batch_rows, args.max_batch_size))
    warm_up(model)
    limits = {"max_body_bytes": args.max_body_bytes, "max_batch_size": args.max_batch_size,
              "max_text_chars": args.max_text_chars, "max_num_beams": args.max_num_beams, "max_queue": args.max_queue}
    batching = None if args.no_batching else BatchingOptions(rows=args.batch_rows, wait_ms=args.batch_wait_ms)
    return create_app(model, api_key=api_key, limits=limits, concurrency=args.concurrency, model_name=args.model_name,
                      batching=batching, max_connections=args.max_connections)


def warm_up(model):
    """One small call of the bundle's task, so that the first request does not pay for lazy initialisation."""
    if model.kind == "image_classification":
        shape = [1 if size is None else size for size in model.backend.input_shapes("serving_default")["images"]]
        model.classify(np.zeros([1, *shape[1:]], "float32"))
    elif model.kind == "translation":
        model.translate(["warm up"], max_new_tokens=2)
    elif model.kind == "language_modeling":
        model.generate(["warm up"], max_new_tokens=1)
    elif model.kind in ("classification",):
        model.classify(["warm up"])
    elif model.kind == "tagging":
        model.tag(["warm up"])
    model.tokens_generated = 0


def _run_workers(args, api_key, options):
    """`--workers N`: uvicorn's supervisor runs N processes on one socket and replaces any that dies."""
    import tempfile

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    with tempfile.TemporaryDirectory(prefix="kzoo-serve-metrics-") as metrics_folder:
        # Read by the workers (spawned, so they inherit the environment): prometheus-client's shared files,
        # the settings, and the key (kept out of the settings so it never appears in a log).
        os.environ[MULTIPROCESS_ENV] = metrics_folder
        os.environ[WORKER_SETTINGS_ENV] = worker_settings(args)
        if api_key:
            os.environ[API_KEY_ENV] = api_key
        config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=args.workers, **options)
        socket = config.bind_socket()
        # Accepted connections inherit it (Linux); without it a response written in two parts waits for the
        # client's delayed ACK (~40 ms per keep-alive request). asyncio sets it only on sockets it created.
        if socket.family in (_socket.AF_INET, _socket.AF_INET6):
            socket.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        try:
            Multiprocess(config, sockets=[socket]).run()
        finally:
            socket.close()
    return 0


def worker_settings(args):
    """The parsed options as the workers read them back (JSON; `kzoo serve`'s handler function left out)."""
    return json.dumps({name: value for name, value in vars(args).items() if not callable(value)})


def worker_app():
    """The app of one `--workers` process (uvicorn calls it in each worker)."""
    args = argparse.Namespace(**json.loads(os.environ[WORKER_SETTINGS_ENV]))
    return build_app(args, os.environ.get(API_KEY_ENV) or None)


def _main_thread():
    return threading.current_thread() is threading.main_thread()


def main(argv=None):
    """`python -m kzoo.serve BUNDLE [options]`; the same as `kzoo serve`."""
    parser = argparse.ArgumentParser(prog="kzoo serve", description="Serve a kzoo bundle over HTTP with ONNX Runtime.")
    add_serve_arguments(parser)
    try:
        return run_from_args(parser.parse_args(argv))
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has drained the requests in flight; no traceback.
        return 130

