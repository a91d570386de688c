"""`RequestMetrics`: ASGI middleware counting every answer by route and status, with its latency.

The route label is the matched route's template (`/v2/models/{model_name}/infer`),
so that clients cannot grow the label set; a path no route matches is `other`.

Example:
```python
app.add_middleware(RequestMetrics, metrics=ServerMetrics(), router=app.router)
```
"""

import time


class RequestMetrics:
    """ASGI middleware: `metrics.request(route, status, seconds)` for every HTTP request.

    Args:
        app: the ASGI app behind it.
        metrics: `ServerMetrics`.
        router: the Starlette router whose routes name the requests.

    Example: `app.add_middleware(RequestMetrics, metrics=metrics, router=app.router)`.
    """

    def __init__(self, app, metrics, router):
        self.app, self.metrics, self.router = app, metrics, router

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def recording_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.request(self._route(scope), status, time.perf_counter() - started)

    def _route(self, scope):
        from starlette.routing import Match

        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match != Match.NONE and getattr(route, "include_in_schema", True):
                return route.path
        return "other"
