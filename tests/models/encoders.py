"""A tiny `EncoderBackbone` and its inputs, for the backbone and task-head tests."""

import numpy as np

from kzoo.models import EncoderBackbone
from tests.models.harness import random_ids, ragged_mask

VOCAB = 50


def backbone(**overrides):
    args = dict(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
                max_sequence_length=16, dropout=0.0)
    return EncoderBackbone(**{**args, **overrides})


def inputs(batch, length):
    return {
        "token_ids": random_ids(batch, length, VOCAB, seed=batch + length),
        "segment_ids": np.zeros((batch, length), "int32"),
        "padding_mask": ragged_mask(batch, length),
    }
