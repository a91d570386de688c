"""Fixed sine/cosine position encodings, computed in float32.

keras-hub's `SinusoidalPositionEncoding` computes positions and angles in the
layer's compute dtype: under `mixed_bfloat16` position 257 rounds to 256 (bfloat16
has an 8-bit significand), so neighbouring tokens get the same encoding. This layer
computes the angles in float32 and casts only the result.
"""

import keras
from keras import ops

from kzoo.runtime.validation import check_choice, check_positive_float

LAYOUTS = ("interleaved", "concatenated")


@keras.saving.register_keras_serializable(package="kzoo")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """The position encoding of Vaswani et al. (2017), section 3.5, from a start index.

    With `w = max_wavelength` and frequencies `f_i = w^(-2i/D)`, the "interleaved"
    layout is the paper's: `PE(p, 2i) = sin(p f_i)`, `PE(p, 2i+1) = cos(p f_i)`.
    The "concatenated" layout puts every sine first and every cosine after them,
    `PE(p, i) = sin(p f_i)` for `i < ceil(D/2)`, then `cos(p f_(i - ceil(D/2)))`: the
    layout of tensor2tensor and of Marian / OPUS-MT checkpoints
    (`MarianSinusoidalPositionalEmbedding`). It has no weights; masks pass through
    unchanged.

    Args:
        max_wavelength: float. Defaults to 10000.
        layout: str. "interleaved" (default) or "concatenated".

    Call arguments:
        inputs: `[B, T, D]`; only its shape is used.
        start_index: int, scalar tensor or `[B]` tensor. The position of the first
            token, so a cached decoder can encode token `t` alone. Defaults to 0.
        positions: `[B, T]` or `[T]` int tensor or None. Each token's position,
            which wins over `start_index` (keras-hub's position layers take the
            same argument).

    Example:
    ```python
    import numpy as np
    encode = SinusoidalPositionEncoding()
    x = np.zeros((2, 4, 8), "float32")
    full = encode(x)                              # [2, 4, 8]
    last = encode(x[:, 3:], start_index=3)        # equals full[:, 3:]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, max_wavelength=10000.0, layout="interleaved", **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = check_positive_float("max_wavelength", max_wavelength)
        self.layout = check_choice("layout", layout, LAYOUTS)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        """[B, T, D] -> encodings [B, T, D] in the compute dtype."""
        shape = ops.shape(inputs)
        length, width = shape[1], shape[2]
        if positions is None:
            start = ops.reshape(ops.cast(start_index, "float32"), (-1, 1))  # [1 or B, 1]
            positions = start + ops.expand_dims(ops.arange(length, dtype="float32"), 0)
        positions = ops.reshape(ops.cast(positions, "float32"), (-1, length, 1))  # [1 or B, T, 1]
        index = ops.arange(width)
        if self.layout == "interleaved":
            is_cosine = ops.cast(index % 2, "float32")  # [D]: 0, 1, 0, 1, ...
            frequency_index = 2 * (index // 2)  # [D]: 0, 0, 2, 2, ...
        else:
            half = (width + 1) // 2
            is_cosine = ops.cast(index >= half, "float32")  # [D]: 0, ..., 0, 1, ..., 1
            frequency_index = 2 * (index - half * ops.cast(is_cosine, index.dtype))  # [D]: 0, 2, ..., 0, 2, ...
        frequencies = ops.exp(ops.cast(frequency_index, "float32") * (-ops.log(self.max_wavelength) / ops.cast(width, "float32")))
        angles = positions * frequencies  # [1 or B, T, D]
        # Arithmetic masking, not a select: both convert to a few builtins everywhere.
        encodings = ops.sin(angles) * (1.0 - is_cosine) + ops.cos(angles) * is_cosine
        return ops.broadcast_to(ops.cast(encodings, self.compute_dtype), shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength, "layout": self.layout})
        return config
