"""`Batcher`: dynamic batching, so that requests arriving together share one backend call.

Requests with the same method and options queue together. A queue is sent as soon
as a backend slot is free (`concurrency` calls run at once) and either no call is
running (an idle server answers at once: no added latency for a lone client),
`rows` rows are waiting, or its oldest request has waited `wait_seconds` for
company. Under load requests pile up while every slot is busy, so the calls grow
by themselves. Each call takes the waiting requests in order of their longest
text (texts of similar length share the padding of a call) up to `rows` rows; a
request is never split, and one larger than `rows` runs alone.

A call that fails (say one text is too long) is run again one request at a time,
so only the request at fault gets the error. Requests whose outputs depend on
their neighbours (sampling, whose random draws are per call) are not batched:
the caller runs them alone.

Example:
```python
batcher = Batcher(limiter, rows=32, wait_seconds=0.002)
labels = await batcher.run(model.classify, ["bonjour"], truncate=False)
```
"""

import asyncio
import functools
import time

import numpy as np


class _Request:
    __slots__ = ("items", "rows", "future", "arrived", "length")

    def __init__(self, items, future):
        self.items, self.rows, self.future, self.arrived = items, len(items), future, time.monotonic()
        self.length = max((len(item) for item in items), default=0) if isinstance(items, list) else 0


class Batcher:
    """Runs `function(items, **options)` over the items of every request that queued with the same options.

    Args:
        limiter: `anyio.CapacityLimiter`. Backend calls in flight (shared with unbatched calls).
        rows: int. Most rows (items) per backend call.
        wait_seconds: float. Longest wait of a request for company while another call runs.
        on_call: callable or None. Called with the rows of every backend call (for metrics).

    Attributes:
        calls: int. Backend calls made. rows_sent: int. Rows sent in them. running: int. Calls running now.
        waiting: int. Requests waiting for a call.

    Example: `await Batcher(limiter, rows=32, wait_seconds=0.002).run(model.translate, ["twelve"], truncate=False)`.
    """

    def __init__(self, limiter, rows=32, wait_seconds=0.002, on_call=None):
        self.limiter, self.rows, self.wait_seconds, self.on_call = limiter, rows, wait_seconds, on_call
        self.calls = self.rows_sent = self.running = 0
        self._queues = {}  # key -> list of _Request
        self._wake = {}  # key -> asyncio.Event set when the queue grows or a call ends

    @property
    def waiting(self):
        return sum(1 for queue in self._queues.values() for request in queue if not request.future.done())

    async def run(self, function, items, **options):
        """The results of `function(items, **options)`, computed in one call with other requests' items.

        `items` is a list (texts) or an array whose first axis is rows (images);
        `function` returns one result per row, in order.
        """
        key = (function, tuple(sorted((name, repr(value)) for name, value in options.items())))
        request = _Request(items, asyncio.get_running_loop().create_future())
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = [request]
            self._wake[key] = asyncio.Event()
            asyncio.get_running_loop().create_task(self._dispatch(key, function, options))
        else:
            queue.append(request)
            self._wake[key].set()
        return await request.future

    async def _dispatch(self, key, function, options):
        queue, wake = self._queues[key], self._wake[key]
        try:
            while True:
                queue[:] = [request for request in queue if not request.future.done()]  # Cancelled: client left.
                if not queue:
                    return
                waited = time.monotonic() - queue[0].arrived
                if self.running and sum(r.rows for r in queue) < self.rows and waited < self.wait_seconds:
                    wake.clear()
                    try:
                        await asyncio.wait_for(wake.wait(), self.wait_seconds - waited)
                    except asyncio.TimeoutError:
                        pass
                    continue
                token = object()
                await self.limiter.acquire_on_behalf_of(token)
                batch = self._take(queue)
                self.running += 1
                asyncio.get_running_loop().create_task(self._call(function, options, batch, token))
        finally:
            del self._queues[key], self._wake[key]

    def _take(self, queue):
        """The requests of the next call: longest texts first, up to `rows` rows (at least one request)."""
        ordered = sorted(queue, key=lambda request: -request.length)
        batch, count = [], 0
        for request in ordered:
            size = request.rows
            if batch and count + size > self.rows:
                continue
            batch.append(request)
            count += size
            if count >= self.rows:
                break
        for request in batch:
            queue.remove(request)
        return batch

    async def _call(self, function, options, batch, token):
        import anyio

        try:
            batch = [request for request in batch if not request.future.done()]
            if not batch:
                return
            items = _concatenate([request.items for request in batch])
            self.calls += 1
            self.rows_sent += len(items)
            if self.on_call is not None:
                self.on_call(len(items))
            try:
                results = await anyio.to_thread.run_sync(functools.partial(function, items, **options))
            except Exception:
                if len(batch) == 1:
                    raise
                # Some request is at fault: run each alone, so that only it gets the error.
                for request in batch:
                    await self._call_alone(function, options, request)
                return
            start = 0
            for request in batch:
                end = start + request.rows
                if not request.future.done():
                    request.future.set_result(results[start:end])
                start = end
        except Exception as error:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(error)
        finally:
            self.running -= 1
            self.limiter.release_on_behalf_of(token)
            for wake in self._wake.values():
                wake.set()

    async def _call_alone(self, function, options, request):
        import anyio

        if request.future.done():
            return
        try:
            result = await anyio.to_thread.run_sync(functools.partial(function, request.items, **options))
        except Exception as error:
            if not request.future.done():
                request.future.set_exception(error)
            return
        if not request.future.done():
            request.future.set_result(result)


def _concatenate(parts):
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [item for part in parts for item in part]
