"""`ServedModel`: what every group of routes needs to know about the model it serves.

Example:
```python
served = ServedModel(model=model, name="translator", limits=DEFAULT_LIMITS, infer=infer, schemas=schemas())
add_open_inference_routes(app, served)
```
"""

from dataclasses import dataclass, field


@dataclass
class ServedModel:
    """The served bundle and the server's settings, shared by the /v1 and /v2 routes.

    Attributes:
        model: `kzoo.runtime.BundleModel`.
        name: str. The model's name on /v2 (the bundle folder's name by default).
        limits: dict. The request limits (see `kzoo.serve.app.DEFAULT_LIMITS`).
        infer: async callable `(function, *args, **kwargs)` running one inference off the event loop,
            with runtime errors turned into `ClientError`.
        schemas: dict. The pydantic schemas by name (`kzoo.serve.schemas.schemas()`).
        bearer: list. FastAPI dependencies documenting the bearer scheme (empty without an API key).
        responses: dict. The error answers every route declares in OpenAPI.

    Example: `ServedModel(model=model, name="translator", limits=limits, infer=infer, schemas=schemas())`.
    """

    model: object
    name: str
    limits: dict
    infer: object
    schemas: dict
    bearer: list = field(default_factory=list)
    responses: dict = field(default_factory=dict)
