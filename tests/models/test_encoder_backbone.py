import numpy as np
import pytest

from tests.models.encoders import backbone, inputs


def test_padded_positions_cannot_change_real_outputs():
    model = backbone()
    batch = inputs(2, 8)
    batch["padding_mask"] = np.array([[1] * 5 + [0] * 3, [1] * 8], "int32")
    changed = dict(batch, token_ids=batch["token_ids"].copy())
    changed["token_ids"][0, 5:] = 7
    a, b = model.predict(batch, verbose=0), model.predict(changed, verbose=0)
    np.testing.assert_allclose(a["sequence_output"][0, :5], b["sequence_output"][0, :5], atol=1e-5)
    np.testing.assert_allclose(a["pooled_output"], b["pooled_output"], atol=1e-5)


def test_outputs_are_named():
    outputs = backbone().predict(inputs(1, 4), verbose=0)
    assert set(outputs) == {"sequence_output", "pooled_output"}


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="vocabulary_size=-1"):
        backbone(vocabulary_size=-1)
