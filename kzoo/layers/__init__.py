"""Serializable Keras 3 building blocks.

Ours where the reference layers fall short (see each module's docstring for the
measured reason); reused from Keras / keras-hub where they already do the job:

- `ReversibleEmbedding` (keras.layers): token embedding whose transpose is the tied
  output projection (`layer(logits_input, reverse=True)`).
- `PositionEmbedding`, `RotaryEmbedding` (keras-hub): learned and rotary positions,
  both taking `start_index` for cached decoding; both compute in float32 where it
  matters and convert to TFLite builtins and ONNX (tests/layers/test_exportability.py).

Example:
```python
from kzoo import layers
block = layers.TransformerDecoderBlock(num_heads=4, intermediate_dim=128)
```
"""

from keras.layers import ReversibleEmbedding
from keras_hub.layers import PositionEmbedding, RotaryEmbedding

from kzoo.layers.additive_attention import AdditiveAttention
from kzoo.layers.attention_recording import AttentionRecording, record_attention
from kzoo.layers.bahdanau_decoder import BahdanauDecoder
from kzoo.layers.feed_forward import FeedForward
from kzoo.layers.multi_head_attention import MultiHeadAttention
from kzoo.layers.multiplicative_attention import MultiplicativeAttention
from kzoo.layers.output_bias import OutputBias
from kzoo.layers.patch_embedding import PatchEmbedding
from kzoo.layers.single_head_attention import SingleHeadAttention
from kzoo.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from kzoo.layers.transformer_decoder_block import TransformerDecoderBlock
from kzoo.layers.transformer_encoder_block import TransformerEncoderBlock

__all__ = [
    "AdditiveAttention",
    "AttentionRecording",
    "BahdanauDecoder",
    "FeedForward",
    "MultiHeadAttention",
    "MultiplicativeAttention",
    "OutputBias",
    "PatchEmbedding",
    "PositionEmbedding",
    "ReversibleEmbedding",
    "RotaryEmbedding",
    "SingleHeadAttention",
    "SinusoidalPositionEncoding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "record_attention",
]
