"""Bundles written under decode-step contract 1 (one scalar `index`, no `beam_parents`) still decode.

The fixtures and the tokens that runtime decoded come from
`tests/fixtures/contract_1_bundles/make_contract_1_bundles.py`, run on the commit
that still wrote contract 1. Greedy tokens must be the ones it gave. Beam search
must give the Keras model's tokens: on ragged prompts that runtime (and Keras then)
let rows with shorter prompts run past `max_new_tokens` and ranked them at that
longer length; since contract 2 every row gets exactly its budget, so only rows
with the longest prompt keep the old beams.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from kzoo.runtime import load

FIXTURES = Path(__file__).parents[1] / "fixtures" / "contract_1_bundles"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
@pytest.mark.parametrize("name", ["lm", "translator"])
def test_contract_1_bundles_decode_ragged_inputs_as_the_keras_model_does(name, backend):
    import kzoo

    model = load(FIXTURES / name, backend=backend)
    assert "index" in model.backend.input_names("decode_step")  # Still the old contract.
    case = REFERENCE[name]
    inputs = {key: np.array(value, "int32") for key, value in case["inputs"].items()}
    count, expected = case["new_tokens"], case["tokens"][backend]
    np.testing.assert_array_equal(model.generate_ids(inputs, count), expected["greedy"])
    beams = model.generate_ids(inputs, count, **REFERENCE["beam"])
    keras_model = kzoo.load_model(FIXTURES / name / "model.keras")
    options = {key: value for key, value in REFERENCE["beam"].items() if key != "strategy"}
    keras_beams = keras_model.generate(inputs, count, start_token_id=1, end_token_id=2, pad_token_id=0,
                                       strategy="beam", **options)
    np.testing.assert_array_equal(beams, keras_beams)
    # An encoder-decoder's target prompt is the start token alone: every row is "longest".
    lengths = inputs["padding_mask"].sum(1) if "padding_mask" in inputs else np.ones(len(beams))
    longest = lengths == lengths.max()
    np.testing.assert_array_equal(beams[longest], np.array(expected["beam"])[longest])
