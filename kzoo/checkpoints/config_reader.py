"""Reading a checkpoint's config.json into kzoo arguments, with one sentence for what kzoo cannot import.

Every refusal names the file, the key and its value, and what kzoo supports, so a
checkpoint of an unsupported variant fails before any weight is read.

Example:
```python
reader = ConfigReader(folder)
reader.activation("activation_function")   # 'swish'
reader.require("normalize_before", False, "kzoo's Marian blocks are post-layer-norm")
```
"""

from kzoo.checkpoints.checkpoint_error import CheckpointError

# transformers' activation names -> kzoo's (`kzoo.layers.utils.ACTIVATIONS`).
ACTIVATIONS = {
    "relu": "relu",
    "gelu": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "gelu_fast": "gelu_approximate",
    "swish": "swish",
    "silu": "silu",
    "tanh": "tanh",
}


class ConfigReader:
    """The `config` of a `CheckpointFolder`, read key by key.

    Args:
        folder: `kzoo.checkpoints.checkpoint_folder.CheckpointFolder`.
    """

    def __init__(self, folder):
        self.config = folder.config
        self.name = f"{folder.path.name}/config.json"

    def get(self, key, default=None):
        return self.config.get(key, default)

    def _refuse(self, key, expected):
        raise CheckpointError(f"{self.name} has {key}={self.config.get(key)!r}; kzoo imports {expected}.")

    def positive(self, key):
        """An int > 0 at `key`."""
        value = self.config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self._refuse(key, "a positive integer there")
        return value

    def multiple(self, key, of):
        """The positive ints at `key` and `of`, the first a multiple of the second: `(value, divisor)`."""
        value, divisor = self.positive(key), self.positive(of)
        if value % divisor:
            raise CheckpointError(f"{self.name} has {key}={value}, not a multiple of {of}={divisor}.")
        return value, divisor

    def require(self, key, wanted, why):
        """Refuse a checkpoint whose `key` is present and not `wanted`, saying `why`."""
        if key in self.config and self.config[key] != wanted:
            raise CheckpointError(f"{self.name} has {key}={self.config[key]!r}, which kzoo does not import: {why}.")

    def same(self, first, second):
        """The value of two keys that kzoo needs equal (e.g. encoder and decoder heads)."""
        value = self.positive(first)
        if self.positive(second) != value:
            raise CheckpointError(f"{self.name} has {first}={value} but {second}={self.config[second]}; kzoo needs them equal.")
        return value

    def activation(self, key):
        """The kzoo name of the activation at `key`."""
        value = self.config.get(key)
        if value not in ACTIVATIONS:
            self._refuse(key, f"the activations {', '.join(ACTIVATIONS)}")
        return ACTIVATIONS[value]
