"""Tiny model files for the backend tests: an ONNX graph and a TFLite flatbuffer that double their input."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def doubling_onnx(tmp_path_factory):
    """model.onnx: `y = 2 * x` for float x `[batch, 4]`, plus an int32 input `unused` the graph never reads."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])], "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        [onnx.numpy_helper.from_array(np.array(2.0, "float32"), "two")],
    )
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.fixture(scope="session")
def doubling_tflite(tmp_path_factory):
    """model.tflite with two signatures: `serving_default` (any batch) and `single` (a fixed batch of 1)."""
    import tensorflow as tf

    from export.tflite import convert_to_tflite

    def double(x):
        return {"y": x * 2.0}

    signatures = {
        "serving_default": tf.function(double, input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")]),
        "single": tf.function(double, input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")]),
    }
    path = tmp_path_factory.mktemp("tflite") / "model.tflite"
    path.write_bytes(convert_to_tflite({name: f.get_concrete_function() for name, f in signatures.items()}))
    return path
