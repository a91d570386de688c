"""`ServerMetrics`: the Prometheus metrics of `kzoo serve` (prometheus-client), exposed at GET /metrics.

| metric | type | labels |
|---|---|---|
| `kzoo_requests_total` | counter | `route` (the route's template, e.g. `/v2/models/{model_name}/infer`), `status` |
| `kzoo_request_seconds` | histogram | `route` |
| `kzoo_batch_rows` | histogram | rows per backend call (batched and unbatched) |
| `kzoo_queue_depth` | gauge | requests waiting for a backend call (summed over workers) |
| `kzoo_tokens_generated_total` | counter | new tokens decoded |
| `kzoo_decode_steps_total`, `kzoo_decode_step_rows_total` | counters | continuous batching: steps run and the rows they served |
| `kzoo_decoding_rows` | gauge | rows in the running decode batches now |

With `kzoo serve --workers N` every worker writes its values to files in the
folder named by `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess
mode, set up by `kzoo serve`), and whichever worker answers /metrics reports the
sum over all of them. Without that variable the metrics live in a registry of
this app alone.

Example:
```python
metrics = ServerMetrics()
metrics.request("/v1/translate", 200, 0.012)
text, content_type = metrics.exposition()
```
"""

import os

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServerMetrics:
    """The server's counters, histograms and gauges, in one registry (or in prometheus-client's multiprocess files).

    Example: `ServerMetrics().batch(16)`.
    """

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        # Multiprocess mode: values go to the shared files, and the registry is built per scrape.
        self.registry = None if self.multiprocess else CollectorRegistry()
        self.requests = Counter("kzoo_requests", "HTTP requests answered, by route and status.",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("kzoo_request_seconds", "Time to answer a request, by route.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rows = Histogram("kzoo_batch_rows", "Rows (texts or images) per backend call.", buckets=ROW_BUCKETS,
                              registry=self.registry)
        self.queue = Gauge("kzoo_queue_depth", "Requests waiting for a backend call.", registry=self.registry,
                           multiprocess_mode="livesum")
        self.tokens = Counter("kzoo_tokens_generated", "New tokens decoded.", registry=self.registry)
        self.steps = Counter("kzoo_decode_steps", "Decode steps of continuous batching.", registry=self.registry)
        self.step_rows = Counter("kzoo_decode_step_rows", "Rows served by those steps.", registry=self.registry)
        self.decoding = Gauge("kzoo_decoding_rows", "Rows in the running decode batches.", registry=self.registry,
                              multiprocess_mode="livesum")

    def request(self, route, status, seconds):
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def batch(self, rows):
        self.rows.observe(rows)

    def queue_depth(self, waiting):
        self.queue.set(waiting)

    def generated(self, tokens):
        if tokens:
            self.tokens.inc(tokens)

    def decode_steps(self, steps, rows, decoding):
        """`steps` more steps that served `rows` more rows; `decoding` rows in the batches now."""
        if steps:
            self.steps.inc(steps)
            self.step_rows.inc(rows)
        self.decoding.set(decoding)

    def exposition(self):
        """`(body bytes, content type)` of the Prometheus text format."""
        from prometheus_client import (
            CONTENT_TYPE_LATEST,
            CollectorRegistry,
            generate_latest,
            multiprocess,
        )

        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
