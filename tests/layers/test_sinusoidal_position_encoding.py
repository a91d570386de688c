import numpy as np
import keras
import pytest

from kzoo.layers import SinusoidalPositionEncoding
from tests.layers.harness import check_config_round_trip


def _reference(positions, width, wavelength=10000.0):
    """The formula of Vaswani et al. (2017), section 3.5, in float64."""
    i = np.arange(width) // 2
    angles = positions[:, None] / wavelength ** (2 * i / width)
    return np.where(np.arange(width) % 2 == 0, np.sin(angles), np.cos(angles))


def test_config_round_trip():
    check_config_round_trip(SinusoidalPositionEncoding, dict(max_wavelength=500.0))


def test_matches_the_paper_formula():
    encoding = SinusoidalPositionEncoding()(np.zeros((1, 50, 32), "float32"))
    np.testing.assert_allclose(encoding[0], _reference(np.arange(50.0), 32), atol=1e-5)


def test_start_index_encodes_later_positions():
    layer = SinusoidalPositionEncoding()
    x = np.zeros((2, 10, 16), "float32")
    np.testing.assert_allclose(layer(x[:, 7:8], start_index=7), layer(x)[:, 7:8], atol=1e-6)


def test_per_row_start_index():
    layer = SinusoidalPositionEncoding()
    encoding = layer(np.zeros((2, 1, 16), "float32"), start_index=np.array([3, 9], "int32")).numpy()
    np.testing.assert_allclose(encoding[:, 0], _reference(np.array([3.0, 9.0]), 16), atol=1e-5)


def test_bfloat16_keeps_neighbouring_positions_apart():
    layer = SinusoidalPositionEncoding(dtype="mixed_bfloat16")
    encoding = np.asarray(keras.ops.cast(layer(np.zeros((1, 600, 64), "float32")), "float32"))
    # Positions 512 and 513 differ in their fastest-rotating component.
    assert not np.allclose(encoding[0, 512], encoding[0, 513])
    np.testing.assert_allclose(encoding[0], _reference(np.arange(600.0), 64), atol=1e-2)


def test_invalid_wavelength_is_rejected():
    with pytest.raises(ValueError, match="max_wavelength=0"):
        SinusoidalPositionEncoding(max_wavelength=0)
