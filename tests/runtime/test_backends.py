"""kzoo.runtime.backends: a manifest export entry opens the runtime that runs it."""

import numpy as np
import pytest

from kzoo.runtime.backends import open_backend
from kzoo.runtime.onnx_backend import OnnxBackend
from kzoo.runtime.tflite_backend import TFLiteBackend


def test_an_entry_opens_its_format(doubling_onnx, doubling_tflite):
    onnx = open_backend(doubling_onnx.parent, {"format": "onnx", "parts": {"serving_default": doubling_onnx.name}})
    tflite = open_backend(doubling_tflite.parent, {"format": "tflite", "parts": {"serving_default": doubling_tflite.name,
                                                                                  "single": doubling_tflite.name}})
    assert isinstance(onnx, OnnxBackend) and isinstance(tflite, TFLiteBackend)
    x = np.ones((2, 4), "float32")
    np.testing.assert_array_equal(onnx.run("serving_default", {"x": x})["y"], tflite.run("serving_default", {"x": x})["y"])


def test_the_savedmodel_format_is_not_for_the_tf_free_runtime(tmp_path):
    with pytest.raises(ValueError, match="The export format 'savedmodel' does not run without TensorFlow"):
        open_backend(tmp_path, {"format": "savedmodel", "parts": {"serving_default": "savedmodel"}})
