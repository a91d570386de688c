"""The Vision Transformer backbone."""

import keras

from kzoo.layers import PatchEmbedding, TransformerEncoderBlock
from kzoo.layers.position_encodings import POSITION_ENCODINGS, additive_position_layer, rotary_max_wavelength
from kzoo.models.serialization import backbone_config, set_dtype_policy
from kzoo.runtime.validation import check_choice, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class ViTBackbone(keras.Model):
    """Patches + class token + learned positions, pre-layer-norm encoder blocks, final norm.

    Implements ViT (Dosovitskiy et al., 2021). With `image_shape=(224, 224, 3),
    patch_size=16, num_layers=12, num_heads=12, hidden_dim=768,
    intermediate_dim=3072` it is ViT-B/16 (86,567,656 parameters with a
    1000-class `ViTClassifier` head).

    Input: `images` `[B, H, W, C]` float. Output: `sequence_output`
    `[B, 1 + N, D]`; position 0 is the class token.

    Args:
        image_shape: tuple (H, W, C).
        patch_size: int.
        num_layers: int.
        num_heads: int.
        hidden_dim: int.
        intermediate_dim: int.
        dropout: float. Defaults to 0.0.
        layer_norm_epsilon: float. Defaults to 1e-6.
        position_encoding: str. "learned" (ViT's table, the default),
            "sinusoidal", "sinusoidal_concat" or "rotary" over the flattened
            patch sequence (class token at 0), or "none"
            (`kzoo.layers.position_encodings`).
        dtype: dtype policy.

    Example:
    ```python
    backbone = ViTBackbone(image_shape=(8, 8, 1), patch_size=4, num_layers=2,
                           num_heads=2, hidden_dim=32, intermediate_dim=64)
    ```

    References:
        - [Dosovitskiy et al., 2021](https://arxiv.org/abs/2010.11929)
    """

    def __init__(
        self,
        image_shape,
        patch_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.0,
        layer_norm_epsilon=1e-6,
        position_encoding="learned",
        dtype=None,
        **kwargs,
    ):
        check_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        image_shape = tuple(int(side) for side in image_shape)
        if len(image_shape) != 3:
            raise ValueError(
                "Received an invalid value for argument `image_shape`, expected "
                f"(height, width, channels). Received: image_shape={image_shape}"
            )
        check_positive_int("num_layers", num_layers)
        check_rate("dropout", dropout)
        patch_embedding = PatchEmbedding(patch_size, hidden_dim, learned_positions=position_encoding == "learned",
                                         dtype=dtype, name="patch_embedding")
        fixed_positions = None if position_encoding == "learned" else additive_position_layer(
            position_encoding, None, dtype, "position_encoding")
        blocks = [
            TransformerEncoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                activation="gelu",
                layer_norm_epsilon=layer_norm_epsilon,
                normalize_first=True,
                rotary_max_wavelength=rotary_max_wavelength(position_encoding),
                dtype=dtype,
                name=f"encoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        final_norm = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, dtype=dtype, name="final_norm")

        images = keras.Input(shape=image_shape, dtype="float32", name="images")
        x = patch_embedding(images)
        if fixed_positions is not None:
            x = x + fixed_positions(x)
        x = keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")(x)
        for block in blocks:
            x = block(x)
        x = final_norm(x)
        super().__init__(inputs={"images": images}, outputs=x, dtype=dtype, **kwargs)
        set_dtype_policy(self, dtype)
        self.image_shape = image_shape
        self.patch_size = patch_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.position_encoding = position_encoding
        self.patch_embedding = patch_embedding
        self.blocks = blocks
        self.final_norm = final_norm

    def get_config(self):
        config = backbone_config(
            self,
            "patch_size",
            "num_layers",
            "num_heads",
            "hidden_dim",
            "intermediate_dim",
            "dropout",
            "layer_norm_epsilon",
            "position_encoding",
        )
        config["image_shape"] = list(self.image_shape)
        return config
