"""`InferenceRunner`: runs one request's inference off the event loop, with batching, a queue limit and a deadline.

Whole calls (`runner(function, rows)`: classify, tag, beam search) wait for one
of `concurrency` backend slots, or, batched, for the next call of their
`Batcher`. Greedy and sampled decoding (`runner.decode(texts)`) joins one of
`concurrency` `ContinuousDecoder`s (continuous batching) when batching is on or
the request streams. More than `max_queue` waiting requests make the next one a
503 with `Retry-After`; a request with `timeout_ms` that is not answered in time
gets a 504 and leaves the queue or the decode batch (a whole call already running
is not interrupted: it answers when the call returns). Runtime errors that are
the client's mistake become 413 / 422.

Example:
```python
run = InferenceRunner(model, concurrency=2, max_queue=64, batching=BatchingOptions())
labels = await run(model.classify, ["bonjour"], truncate=False)
```
"""

import asyncio
import contextlib
import functools
import math

from kzoo.runtime import InputTooLongError, UnsupportedTaskError
from kzoo.runtime.bundle_model import DECODING_ARGUMENTS
from kzoo.runtime.continuous_decoder import ContinuousDecoder
from kzoo.serve.batcher import Batcher
from kzoo.serve.client_error import ClientError

SAMPLING = ("top_k", "top_p")


class InferenceRunner:
    """The server's way into the runtime: `await runner(function, rows, timeout_ms=None, **options)`.

    Args:
        model: `kzoo.runtime.BundleModel`. Whose decoding options tell sampling calls apart.
        concurrency: int. Backend calls in flight.
        max_queue: int. Most requests waiting for a backend call; beyond it, 503.
        batching: `BatchingOptions` or None. None: one request per backend call.
        metrics: `ServerMetrics` or None. Receives rows per call, the queue depth and tokens generated.

    Attributes:
        batcher: `Batcher` or None. decoders: list of `ContinuousDecoder` (empty for contract-1 and
        non-generative bundles). waiting: int. Requests waiting now. running: int. Whole calls running alone.

    Example: `await InferenceRunner(model, 2, 64, None)(model.tag, ["Anna lives in Berlin"], truncate=False)`.
    """

    def __init__(self, model, concurrency, max_queue, batching=None, metrics=None):
        import anyio

        self.model, self.max_queue, self.metrics = model, max_queue, metrics
        self.limiter = anyio.CapacityLimiter(concurrency)
        on_call = metrics.batch if metrics is not None else None
        self.batcher = None if batching is None else Batcher(self.limiter, batching.rows, batching.wait_ms / 1000,
                                                             on_call)
        # Continuous batching of decode steps, one decoder (thread) per backend slot; without batching they
        # serve streamed requests only, one request at a time each.
        rows = batching.rows if batching is not None else 1
        self.decoders = ([ContinuousDecoder(model, max_rows=rows) for _ in range(concurrency)]
                         if ContinuousDecoder.supports(model) else [])
        self._waiting_alone = 0
        self._tokens_reported = 0
        self._steps_reported = (0, 0)
        self.running = 0

    @property
    def waiting(self):
        return (self._waiting_alone + (self.batcher.waiting if self.batcher else 0)
                + sum(decoder.waiting for decoder in self.decoders))

    async def __call__(self, function, rows, timeout_ms=None, **options):
        """`function(rows, **options)`: batched with other requests' rows unless it samples."""
        with self._client_errors(timeout_ms):
            if self.batcher is not None and not self._samples(options):
                return await self.batcher.run(function, rows, **options)
            return await self._alone(function, rows, options)

    async def decode(self, texts, timeout_ms=None, on_tokens=None, **options):
        """The translations (or continuations) of `texts`; decode steps are shared with other requests when they can be.

        Greedy and sampling requests join a `ContinuousDecoder`'s running batch
        (with batching on, or when `on_tokens` streams them); beam search and
        bundles of decode-step contract 1 decode in whole calls. `on_tokens` is
        called on the event loop with each step's tokens so far `[B, n]`.
        """
        model = self.model
        method = model.translate if model.seq2seq else model.generate
        beam = self._strategy(options) == "beam"
        if not self.decoders or beam or (self.batcher is None and on_tokens is None):
            return await self(method, texts, timeout_ms=timeout_ms, truncate=False, **options)
        with self._client_errors(timeout_ms):
            options = dict(options)
            max_new_tokens = options.pop("max_new_tokens", None) or model.default_max_new_tokens
            inputs = model.decoding_inputs(texts, max_new_tokens, truncate=False,
                                           target_language=options.pop("target_language", None))
            decoder = min(self.decoders, key=lambda candidate: candidate.load)
            loop = asyncio.get_running_loop()
            listener = None if on_tokens is None else lambda tokens: loop.call_soon_threadsafe(on_tokens, tokens)
            future = decoder.submit(inputs, max_new_tokens, on_tokens=listener, **options)
            try:
                tokens = await asyncio.wrap_future(future)
            finally:
                if not future.done():
                    decoder.cancel(future)  # Deadline passed or the client left: out of the batch at the next step.
            return model.decode_new_tokens(tokens)

    def close(self):
        """Stops the decoders' threads."""
        for decoder in self.decoders:
            decoder.close()

    def check_decodable(self, texts, **options):
        """Raises the `ClientError` that decoding `texts` would meet first (a full queue, a text too long), so
        that a stream can still answer it with a status code before it begins."""
        with self._client_errors(None):
            self.model.decoding_inputs(texts, options.get("max_new_tokens"), truncate=False,
                                       target_language=options.get("target_language"))

    @contextlib.contextmanager
    def _client_errors(self, timeout_ms):
        """Refuses beyond `max_queue`, enforces `timeout_ms`, and turns runtime errors into `ClientError`."""
        import anyio

        if self.waiting >= self.max_queue:
            raise ClientError(503, f"The server is busy: {self.waiting} requests are waiting (max_queue="
                                   f"{self.max_queue}); retry in a second.", "max_queue", headers={"Retry-After": "1"})
        self.report()
        try:
            with anyio.fail_after(math.inf if timeout_ms is None else timeout_ms / 1000):
                yield
        except TimeoutError:
            raise ClientError(504, f"The request was not answered within its timeout_ms={timeout_ms}; it was "
                                   "dropped. Raise timeout_ms or send less.", "timeout_ms") from None
        except InputTooLongError as error:
            raise ClientError(413, str(error).replace(" (or pass truncate=True)", ""), error.limit_name) from None
        except (UnsupportedTaskError, ValueError, TypeError) as error:
            raise ClientError(422, str(error)) from None
        finally:
            self.report()

    def report(self):
        """Brings the metrics up to date (the event loop's thread only, so the token count needs no lock)."""
        if self.metrics is None:
            return
        self.metrics.queue_depth(self.waiting)
        tokens = getattr(self.model, "tokens_generated", 0)
        self.metrics.generated(tokens - self._tokens_reported)
        self._tokens_reported = tokens
        steps = sum(decoder.steps for decoder in self.decoders)
        rows = sum(decoder.rows_stepped for decoder in self.decoders)
        self.metrics.decode_steps(steps - self._steps_reported[0], rows - self._steps_reported[1],
                                  sum(decoder.rows for decoder in self.decoders))
        self._steps_reported = (steps, rows)

    async def _alone(self, function, rows, options):
        import anyio

        self._waiting_alone += 1
        try:
            await self.limiter.acquire()
        finally:
            self._waiting_alone -= 1
        if self.metrics is not None:
            self.metrics.batch(len(rows))
        self.running += 1
        try:
            # Not abandoned on a timeout: the slot stays taken until the thread returns (the CPU is busy until
            # then anyway); the request answers 504 at that moment.
            return await anyio.to_thread.run_sync(functools.partial(function, rows, **options), abandon_on_cancel=False)
        finally:
            self.running -= 1
            self.limiter.release()

    def _samples(self, options):
        """True when decoding draws random numbers: such calls are not batched (the draws are per call)."""
        return self._strategy(options) in SAMPLING

    def _strategy(self, options):
        if not self.model.generative:
            return None
        choices = {name: value for name, value in options.items() if name in DECODING_ARGUMENTS}
        return self.model.decoding_options(**choices).strategy
