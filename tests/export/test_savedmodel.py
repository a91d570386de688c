"""export.savedmodel: every graph a signature, and a `generate` signature that decodes as `model.generate`."""

import numpy as np
import pytest
import tensorflow as tf

import kzoo
from export.graphs import describe, export_graphs
from export.savedmodel import SavedModelBackend, save_savedmodel
from kzoo.runtime.decoding import DecodingOptions


@pytest.mark.parametrize("preset", ["transformer_tiny", "causal_lm_tiny"])
def test_the_generate_signature_gives_model_generate_s_greedy_tokens(tmp_path, preset):
    model = kzoo.create(preset, vocabulary_size=40, max_sequence_length=16)
    description = describe(model)
    options = DecodingOptions(start_token_id=2, end_token_id=3, pad_token_id=0)
    save_savedmodel(model, tmp_path / "savedmodel", export_graphs(model, description), description, 6, options)
    ids = np.random.default_rng(1).integers(5, 40, (3, 4)).astype("int32")
    mask = np.ones_like(ids)
    generate = tf.saved_model.load(str(tmp_path / "savedmodel")).signatures["generate"]
    if description.encoder:
        tokens = generate(encoder_token_ids=ids, encoder_padding_mask=mask)["tokens"].numpy()
        expected = model.generate({"encoder_token_ids": ids, "encoder_padding_mask": mask}, 6, start_token_id=2,
                                  end_token_id=3)
        np.testing.assert_array_equal(np.where(np.cumsum(tokens == 3, 1) - (tokens == 3) > 0, 0, tokens), expected)
    else:
        tokens = generate(token_ids=ids, padding_mask=mask)["tokens"].numpy()
        expected = model.generate({"token_ids": ids, "padding_mask": mask}, 6)
        np.testing.assert_array_equal(tokens[:, 4:], expected)
        np.testing.assert_array_equal(tokens[:, :4], ids)
    backend = SavedModelBackend(tmp_path / "savedmodel")
    assert "generate" not in backend.parts and "decode_step" in backend.parts
