"""The attention weights kzoo's attention layers compute, collected from a model's own forward pass.

`kzoo.layers.MultiHeadAttention` and `kzoo.layers.AdditiveAttention` hand the
probabilities they have just computed to `record(layer, weights)`. That does
nothing unless a `record_attention()` block is open and the call runs eagerly:
a traced graph (`tf.function`, `model.fit`, every exported signature) never
holds a recording op, so the exported files are unchanged by this module.

Example:
```python
with record_attention() as recording:
    model(inputs, training=False)
recording.weights   # {"encoder_block_0/self_attention": array [B, H, T, S], ...}
```
"""

import contextlib
import contextvars

import numpy as np

_ACTIVE = contextvars.ContextVar("kzoo_attention_recording", default=None)


class AttentionRecording:
    """Weights recorded in one `record_attention()` block: `weights`, `{layer path: array}`.

    A multi-head layer's array is `[B, H, T, S]` (batch, head, query, key); an
    additive (Bahdanau) layer's `[B, T, S]`. A layer called more than once in
    the block (a decoding loop) has its calls stacked on a new first axis.
    """

    def __init__(self):
        self._calls = {}

    def add(self, name, weights):
        self._calls.setdefault(name, []).append(weights)

    @property
    def weights(self):
        return {name: calls[0] if len(calls) == 1 else np.stack(calls) for name, calls in self._calls.items()}


@contextlib.contextmanager
def record_attention():
    """Collects the attention weights of every kzoo attention layer called eagerly inside the block."""
    recording = AttentionRecording()
    token = _ACTIVE.set(recording)
    try:
        yield recording
    finally:
        _ACTIVE.reset(token)


def record(layer, weights):
    """Called by the attention layers with their probabilities; a no-op outside an eager `record_attention()`."""
    recording = _ACTIVE.get()
    if recording is None:
        return
    import tensorflow as tf

    if not tf.executing_eagerly():  # A graph being traced: keep it free of recording.
        return
    recording.add(layer.path, np.asarray(weights, dtype="float32"))
