"""export.graphs: the named graphs every format is made from, built from the model's export description."""

import keras
import numpy as np

import kzoo
from export.graphs import describe, export_graphs


def test_a_generic_keras_model_exports_its_forward_pass_alone():
    inputs = keras.Input((4,), dtype="int32", name="token_ids")
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Embedding(10, 8)(inputs)))
    description = describe(model)
    assert description.parts == ("serving_default",) and description.attention is None
    graphs = export_graphs(model, description)
    assert list(graphs) == ["serving_default"]
    assert [(spec.name, tuple(spec.shape)) for spec in graphs["serving_default"].input_signature] == [("token_ids", (None, 4))]


def test_decoding_graphs_take_the_declared_state_and_return_the_updated_entries():
    model = kzoo.create("gru_tiny", vocabulary_size=30)
    graphs = export_graphs(model, describe(model, max_length=9), batch_size=1)
    step = graphs["decode_step"]
    assert [spec.name for spec in step.input_signature] == [
        "token_ids", "positions", "state", "encoder_output", "projected_keys", "encoder_padding_mask"]
    assert tuple(step.input_signature[0].shape) == (1, 1)  # The GRU steps its cell one token at a time.
    outputs = step.concrete().structured_outputs
    assert set(outputs) == {"logits", "next_state"}
    lm = kzoo.create("causal_lm_tiny", vocabulary_size=30, num_layers=2)
    step = export_graphs(lm, describe(lm, max_length=9))["decode_step"]
    assert [spec.name for spec in step.input_signature] == ["token_ids", "positions", "cache_0", "cache_1"]
    assert set(step.concrete().structured_outputs) == {"logits", "new_cache_0", "new_cache_1"}
    encoded = graphs["encode"].concrete()(encoder_token_ids=np.ones((1, 5), "int32"),
                                          encoder_padding_mask=np.ones((1, 5), "int32"))
    assert set(encoded) == {"state", "encoder_output", "projected_keys"}
