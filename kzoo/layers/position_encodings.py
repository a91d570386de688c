"""One `position_encoding` argument for every Transformer family: what each value builds.

| value               | where positions enter                                  | weights |
|---------------------|--------------------------------------------------------|---------|
| `"learned"`         | a trained table added to the embeddings (BERT, GPT-2, ViT) | `max_sequence_length x D` |
| `"sinusoidal"`      | the paper's interleaved sines and cosines, added       | none    |
| `"sinusoidal_concat"` | sines then cosines (tensor2tensor, Marian / OPUS-MT), added | none |
| `"rotary"`          | queries and keys of every self-attention rotated (RoPE) | none    |
| `"none"`            | nowhere: the model sees a bag of tokens (causal masking alone still orders a decoder) | none |

Example:
```python
layer = additive_position_layer("learned", max_sequence_length=64, dtype=None, name="position_embedding")
x = tokens + layer(tokens)
```
"""

import keras
from keras import ops

from kzoo.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from kzoo.runtime.validation import check_choice

POSITION_ENCODINGS = ("learned", "sinusoidal", "sinusoidal_concat", "rotary", "none")
ROTARY_MAX_WAVELENGTH = 10000  # RoPE's (Su et al., 2021) and keras-hub's default.


def additive_position_layer(position_encoding, max_sequence_length, dtype, name, initializer=None):
    """The layer whose output is added to the embeddings, or None ("rotary" acts in attention, "none" nowhere).

    Every returned layer takes `(inputs [B, T, D], start_index=0)` and returns `[B, T, D]`.
    """
    from keras_hub.layers import PositionEmbedding

    check_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
    if position_encoding == "learned":
        initializer = initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        return PositionEmbedding(max_sequence_length, initializer=initializer, dtype=dtype, name=name)
    if position_encoding in ("sinusoidal", "sinusoidal_concat"):
        layout = "interleaved" if position_encoding == "sinusoidal" else "concatenated"
        return SinusoidalPositionEncoding(layout=layout, dtype=dtype, name=name)
    return None


def rotary_max_wavelength(position_encoding):
    """The attention layers' `rotary_max_wavelength` for `position_encoding`: an int for "rotary", else None."""
    return ROTARY_MAX_WAVELENGTH if position_encoding == "rotary" else None


def encode_positions(layer, inputs, start_index, sequence_axis=1):
    """`layer(inputs)` for the positions `start_index, start_index + 1, ...` along `sequence_axis`.

    `start_index` is an int or scalar (one position for the whole batch) or a `[B]`
    tensor (a position per row, as a decode step over rows at different lengths
    passes it); a per-row start goes to the layer as `positions` `[B, T]`, which
    keras-hub's `PositionEmbedding` and `RotaryEmbedding` and kzoo's
    `SinusoidalPositionEncoding` all take.

    Example: `encode_positions(position_embedding, x, start_index=np.array([3, 7]))`.
    """
    if len(getattr(start_index, "shape", ())) != 1:
        return layer(inputs, start_index=start_index)
    length = ops.shape(inputs)[sequence_axis]
    positions = ops.expand_dims(ops.cast(start_index, "int32"), 1) + ops.expand_dims(ops.arange(length, dtype="int32"), 0)
    return layer(inputs, positions=positions)
