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
