"""kzoo: a Keras 3 model zoo of Transformers that ship to TFLite and ONNX Runtime.

`create` and `list_models` load TensorFlow on first use, so `import kzoo` (and
`kzoo --help`) stays instant.

Example:
```python
import kzoo
model = kzoo.create("transformer_small")
print(kzoo.list_models()[0]["name"])
```
"""

__version__ = "0.1.0"


def create(name, **overrides):
    """Build preset `name` (see `kzoo list`), overriding any config argument."""
    from kzoo.models import create as _create

    return _create(name, **overrides)


def list_models():
    """One dict per preset: name, family, parameters, description."""
    from kzoo.models import list_models as _list_models

    return _list_models()
