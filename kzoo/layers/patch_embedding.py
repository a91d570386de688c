"""Image patches to token embeddings, with a class token and learned positions (ViT)."""

import keras
from keras import ops

from kzoo.layers.utils import clone_initializer
from kzoo.runtime.validation import check_positive_int


@keras.saving.register_keras_serializable(package="kzoo")
class PatchEmbedding(keras.layers.Layer):
    """Split images into patches, project each, prepend a class token, add positions.

    Implements the embedding of Dosovitskiy et al. (2021): a strided convolution with
    kernel = stride = `patch_size` is the linear projection of flattened patches.

    Args:
        patch_size: int. Side of the square patches; must divide the image sides.
        hidden_dim: int. Width of the patch embeddings.
        use_class_token: bool. Prepend a learned class token. Defaults to True.
        learned_positions: bool. Add a learned position table (ViT's). False
            leaves positions to the model (`position_encoding`). Defaults to True.
        kernel_initializer: Defaults to "glorot_uniform".

    Call arguments:
        images: `[B, H, W, C]`.

    Returns `[B, 1 + (H / p) * (W / p), hidden_dim]` (without the 1 if no class token).

    Example:
    ```python
    import numpy as np
    embed = PatchEmbedding(patch_size=4, hidden_dim=32)
    tokens = embed(np.zeros((2, 8, 8, 1), "float32"))   # [2, 5, 32]
    ```

    References:
        - [Dosovitskiy et al., 2021](https://arxiv.org/abs/2010.11929)
    """

    def __init__(self, patch_size, hidden_dim, use_class_token=True, kernel_initializer="glorot_uniform",
                 learned_positions=True, **kwargs):
        super().__init__(**kwargs)
        self.learned_positions = bool(learned_positions)
        self.patch_size = check_positive_int("patch_size", patch_size)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        self.use_class_token = bool(use_class_token)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, images_shape):
        height, width = images_shape[1], images_shape[2]
        if height is None or width is None or height % self.patch_size or width % self.patch_size:
            raise ValueError(
                "Received an invalid value for argument `images`, expected a fixed "
                f"height and width divisible by patch_size={self.patch_size}. "
                f"Received: images.shape={tuple(images_shape)}"
            )
        self.num_patches = (height // self.patch_size) * (width // self.patch_size)
        self.projection = keras.layers.Conv2D(
            self.hidden_dim,
            kernel_size=self.patch_size,
            strides=self.patch_size,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="projection",
        )
        self.projection.build(images_shape)
        if self.use_class_token:
            self.class_token = self.add_weight(
                shape=(1, 1, self.hidden_dim), initializer="zeros", name="class_token"
            )
        if self.learned_positions:
            self.position_embeddings = self.add_weight(
                shape=(1, self.num_patches + int(self.use_class_token), self.hidden_dim),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
                name="position_embeddings",
            )
        self.built = True

    def call(self, images):
        patches = self.projection(images)  # [B, H/p, W/p, D]
        batch = ops.shape(patches)[0]
        tokens = ops.reshape(patches, (batch, self.num_patches, self.hidden_dim))  # [B, N, D]
        if self.use_class_token:
            class_tokens = ops.broadcast_to(ops.cast(self.class_token, tokens.dtype), (batch, 1, self.hidden_dim))
            tokens = ops.concatenate([class_tokens, tokens], axis=1)  # [B, 1 + N, D]
        if not self.learned_positions:
            return tokens
        return tokens + ops.cast(self.position_embeddings, tokens.dtype)

    def compute_output_shape(self, images_shape):
        patches = (images_shape[1] // self.patch_size) * (images_shape[2] // self.patch_size)
        return (images_shape[0], patches + int(self.use_class_token), self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "patch_size": self.patch_size,
                "hidden_dim": self.hidden_dim,
                "use_class_token": self.use_class_token,
                "learned_positions": self.learned_positions,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
