"""kzoo.serve: the HTTP server over a bundle (FastAPI + uvicorn on top of `kzoo.runtime`, no TensorFlow).

| module | what |
|---|---|
| `app` | `create_app(model)`: the /v1/ task routes, /v1/model, /healthz, the error answers |
| `open_inference` | the KServe V2 / Open Inference Protocol routes under /v2 |
| `v2_tensors` | V2 tensors as JSON and in the binary tensor data extension |
| `request_checks` | the limits and decoding-option checks every task route runs |
| `served_model` | `ServedModel`: the model and settings the route groups share |
| `inference_runner` | `InferenceRunner`: batching, continuous decoding, the queue limit and deadlines |
| `batcher`, `batching_options` | dynamic batching of whole calls across requests |
| `event_stream`, `event_stream_response` | Server-Sent Events for `"stream": true` |
| `server_metrics`, `request_metrics` | Prometheus /metrics (prometheus-client, multiprocess with `--workers`) |
| `triton_repository` (+ `triton_model.py.template`) | `kzoo triton`: a Triton model repository from a bundle |
| `guard` | ASGI middleware: bearer token, body size, UTF-8, before any parsing |
| `schemas` | the request and response schemas (pydantic) |
| `client_error` | `ClientError` and the JSON error body |
| `command` | `kzoo serve` / `python -m kzoo.serve`: arguments, loading, uvicorn |

Example:
```
python -m kzoo.serve saved_models/translator --port 8000
```
"""

from kzoo.serve.app import DEFAULT_LIMITS, TASK_ROUTES, create_app
from kzoo.serve.command import add_serve_arguments, main, run_from_args

__all__ = ["DEFAULT_LIMITS", "TASK_ROUTES", "add_serve_arguments", "create_app", "main", "run_from_args"]
