"""The embeddings kzoo reuses from Keras / keras-hub do what cached decoding needs."""

import numpy as np

from kzoo.layers import PositionEmbedding, ReversibleEmbedding, RotaryEmbedding


def test_learned_position_embedding_takes_a_start_index():
    layer = PositionEmbedding(sequence_length=10)
    x = np.zeros((2, 10, 8), "float32")
    full = layer(x).numpy()
    np.testing.assert_allclose(layer(x[:, 6:7], start_index=6), full[:, 6:7])


def test_rotary_embedding_takes_a_start_index():
    layer = RotaryEmbedding()
    x = np.random.default_rng(7).normal(size=(2, 9, 2, 8)).astype("float32")  # [B, T, H, K]
    full = layer(x).numpy()
    np.testing.assert_allclose(layer(x[:, 4:5], start_index=4), full[:, 4:5], atol=1e-5)


def test_reversible_embedding_ties_the_output_projection():
    layer = ReversibleEmbedding(input_dim=11, output_dim=4)
    vectors = layer(np.array([[3, 5]])).numpy()
    logits = layer(vectors, reverse=True).numpy()
    np.testing.assert_allclose(logits, vectors @ layer.embeddings.numpy().T, atol=1e-6)
