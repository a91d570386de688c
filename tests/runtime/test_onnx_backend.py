"""kzoo.runtime.OnnxBackend: one session per part, inputs cast to what the graph takes, shapes reported."""

import numpy as np
import pytest

from kzoo.runtime.onnx_backend import OnnxBackend


def test_run_casts_the_inputs_and_names_the_outputs(doubling_onnx):
    backend = OnnxBackend({"serving_default": doubling_onnx}, threads=1)
    assert backend.parts == ["serving_default"] and backend.input_names("serving_default") == ["x"]
    assert backend.input_shapes("serving_default") == {"x": (None, 4)}
    # Integers in, float32 out; a feed the graph does not take is ignored.
    outputs = backend.run("serving_default", {"x": np.arange(8).reshape(2, 4), "index": np.array(0)})
    np.testing.assert_array_equal(outputs["y"], 2.0 * np.arange(8, dtype="float32").reshape(2, 4))


def test_an_unknown_optimization_level_is_named(doubling_onnx):
    with pytest.raises(ValueError, match="expected one of 'disable', 'basic', 'extended', 'all'. Received: optimization='max'"):
        OnnxBackend({"serving_default": doubling_onnx}, optimization="max")
