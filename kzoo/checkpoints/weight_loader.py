"""Assigning a checkpoint's tensors to a built kzoo model, every variable exactly once, every shape checked.

The family modules (`marian`, `bert`, `gpt2`, `vit`) say which checkpoint tensor
goes into which kzoo layer; this class does the assignment in the layouts kzoo
uses: Keras `Dense` kernels are `[in, out]` (PyTorch `Linear` weights are
`[out, in]`), and kzoo's attention projects Q, K and V with one fused kernel
(`[D, 3 D]`, queries then keys then values, each `[heads, head_dim]` in order),
K and V of cross-attention with another. `finish()` fails when a kzoo variable
got no value, naming it, so an import is complete or it fails.

Example:
```python
loader = WeightLoader(model, folder.weights)
loader.linear(block.feed_forward.intermediate_dense, "model.encoder.layers.0.fc1")
loader.finish()
```
"""

import numpy as np

from kzoo.checkpoints.checkpoint_error import CheckpointError


class WeightLoader:
    """Fills the variables of a built kzoo `model` from `weights` (a `CheckpointWeights`).

    Args:
        model: a built kzoo model.
        weights: `kzoo.checkpoints.checkpoint_folder.CheckpointWeights`.
    """

    def __init__(self, model, weights):
        self.model, self.weights = model, weights
        self._left = {id(variable): variable for variable in model.weights}

    def assign(self, variable, value, name):
        """`variable` <- `value` (from tensor `name`), shapes checked."""
        if id(variable) not in self._left:
            raise CheckpointError(f"kzoo variable {variable.path} would be loaded twice (from {name}); the mapping is wrong.")
        value = np.asarray(value)
        if tuple(variable.shape) != tuple(value.shape):
            raise CheckpointError(
                f"{self.weights.source}: {name} gives shape {tuple(value.shape)}, but kzoo's {variable.path} has "
                f"{tuple(variable.shape)}; the config and the weights disagree."
            )
        variable.assign(value.astype(variable.dtype if isinstance(variable.dtype, str) else "float32"))
        del self._left[id(variable)]

    def linear(self, dense, prefix, transpose=True):
        """A Keras `Dense` <- `<prefix>.weight` (`[out, in]`, or `[in, out]` with `transpose=False`) and `.bias`."""
        kernel = self.weights.take(f"{prefix}.weight")
        self.assign(dense.kernel, kernel.T if transpose else kernel, f"{prefix}.weight")
        if dense.use_bias:
            self.assign(dense.bias, self.weights.take(f"{prefix}.bias"), f"{prefix}.bias")

    def norm(self, layer, prefix, scale="weight", shift="bias"):
        """A `LayerNormalization` <- `<prefix>.weight` and `<prefix>.bias`."""
        self.assign(layer.gamma, self.weights.take(f"{prefix}.{scale}"), f"{prefix}.{scale}")
        self.assign(layer.beta, self.weights.take(f"{prefix}.{shift}"), f"{prefix}.{shift}")

    def embedding(self, layer, name):
        """An `Embedding` (or `ReversibleEmbedding`, tied) <- `name` `[V, D]`."""
        self.assign(layer.embeddings, self.weights.take(name), name)

    def fused(self, dense, prefixes):
        """A fused projection `Dense` <- the `Linear`s at `prefixes`, their outputs concatenated in that order."""
        kernels = [self.weights.take(f"{prefix}.weight").T for prefix in prefixes]
        self.assign(dense.kernel, np.concatenate(kernels, axis=1), " + ".join(f"{p}.weight" for p in prefixes))
        if dense.use_bias:
            biases = [self.weights.take(f"{prefix}.bias") for prefix in prefixes]
            self.assign(dense.bias, np.concatenate(biases), " + ".join(f"{p}.bias" for p in prefixes))

    def attention(self, attention, query, key, value, output):
        """A kzoo `MultiHeadAttention` <- separate query / key / value / output `Linear`s."""
        if attention.is_cross_attention:
            self.linear(attention.query_dense, query)
            self.fused(attention.key_value_dense, (key, value))
        else:
            self.fused(attention.query_key_value_dense, (query, key, value))
        self.linear(attention.output_dense, output)

    def keep_initialized(self, layer):
        """Leave `layer` as initialized (a head the checkpoint does not have); returns its name for the report."""
        for variable in layer.weights:
            self._left.pop(id(variable), None)
        return layer.name

    def finish(self):
        """Raise `CheckpointError` naming the kzoo variables that got no value."""
        if self._left:
            paths = ", ".join(variable.path for variable in self._left.values())
            raise CheckpointError(f"{self.weights.source} gives no value for kzoo's {paths}; the checkpoint is incomplete.")
