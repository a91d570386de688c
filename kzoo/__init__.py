"""kzoo: a Keras 3 model zoo of Transformers that ship to TFLite and ONNX Runtime.

`import kzoo` is light: it imports neither TensorFlow nor Keras, so `kzoo --help`
answers at once and a serving host with only the `serve` extra imports
`kzoo.runtime` (bundles over ONNX Runtime / LiteRT) without them. The functions
below load TensorFlow on first use.

| package | what |
|---|---|
| `kzoo.runtime`, `kzoo.serve` | the TF-free base: bundles, tokenizers, decoding, the HTTP server |
| `kzoo.layers`, `kzoo.models` | Keras layers and model families; `kzoo.create`, `kzoo.load_model` |
| `kzoo.data`, `kzoo.training`, `kzoo.generation`, `kzoo.metrics` | tasks and pipelines, the fit recipe, decoding, metrics |
| `kzoo.checkpoints` | Hugging Face and keras-hub checkpoint folders in: `kzoo.import_checkpoint` |
| `kzoo.commands` | the `kzoo` command line |

Example:
```python
import kzoo
model = kzoo.create("transformer_small")
same = kzoo.load_model("runs/transformer_small-numbers_en_de/model.keras")
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


def load_model(path, compile=False):
    """Load any kzoo `.keras` file (see `kzoo.training.load_model`); `compile=True` restores the optimizer too."""
    from kzoo.training import load_model as _load_model

    return _load_model(path, compile=compile)


def import_checkpoint(path, dtype=None):
    """A kzoo model and tokenizer from a Hugging Face or keras-hub checkpoint folder (see `kzoo.checkpoints`)."""
    from kzoo.checkpoints import import_checkpoint as _import_checkpoint

    return _import_checkpoint(path, dtype=dtype)
