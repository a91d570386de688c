import numpy as np
import pytest

from kzoo.layers import PatchEmbedding
from tests.layers.harness import check_layer

RNG = np.random.default_rng(3)


def _images(batch=2, side=8, channels=1):
    return RNG.normal(size=(batch, side, side, channels)).astype("float32")


def test_generic_checks(tmp_path):
    check_layer(
        PatchEmbedding,
        dict(patch_size=4, hidden_dim=12, use_class_token=False, kernel_initializer="he_normal"),
        make_inputs=lambda length: [_images()],
        tmp_path=tmp_path,
        fixed_shapes=True,
    )


def test_patches_are_linear_projections_of_flattened_patches():
    layer = PatchEmbedding(patch_size=4, hidden_dim=6)
    images = _images(channels=3)
    tokens = layer(images).numpy()
    assert tokens.shape == (2, 5, 6)
    kernel, bias = [w.numpy() for w in layer.projection.weights]
    patch = images[1, 4:8, 0:4, :]  # Row 1, column 0 -> patch index 2, token 3.
    expected = np.einsum("hwc,hwcd->d", patch, kernel) + bias + layer.position_embeddings.numpy()[0, 3]
    np.testing.assert_allclose(tokens[1, 3], expected, atol=1e-5)
    np.testing.assert_allclose(
        tokens[:, 0], np.broadcast_to(layer.class_token.numpy()[0, 0] + layer.position_embeddings.numpy()[0, 0], (2, 6)), atol=1e-6
    )


def test_image_side_not_divisible_by_patch_is_rejected():
    with pytest.raises(ValueError, match="divisible by patch_size=3"):
        PatchEmbedding(patch_size=3, hidden_dim=4)(_images())
