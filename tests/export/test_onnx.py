"""ONNX conversion details: Keras 3 layer norms become one standard LayerNormalization node."""

import collections

import numpy as np
import pytest


@pytest.mark.parametrize("shape", [(None, None, 8), (None, 8)])
def test_a_keras_layer_norm_becomes_one_onnx_layer_normalization(shape):
    import keras
    import onnxruntime
    import tensorflow as tf

    from export.onnx import convert_to_onnx

    keras.utils.set_random_seed(0)
    norm = keras.layers.LayerNormalization(epsilon=1e-6)
    norm.build(shape)
    norm.gamma.assign(np.linspace(0.5, 1.5, 8))
    norm.beta.assign(np.linspace(-1.0, 1.0, 8))
    spec = tf.TensorSpec(shape, tf.float32, name="x")
    proto = convert_to_onnx(tf.function(lambda x: {"y": norm(x)}), [spec])
    assert collections.Counter(node.op_type for node in proto.graph.node)["LayerNormalization"] == 1
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 5, 8)[-len(shape):]).astype("float32")
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"x": x})[0], norm(x).numpy(), atol=1e-5)


def test_a_normalization_over_another_axis_is_left_as_it_was():
    import keras
    import tensorflow as tf

    from export.onnx import convert_to_onnx

    norm = keras.layers.LayerNormalization(axis=1)
    norm.build((None, 4, 8))
    proto = convert_to_onnx(tf.function(lambda x: {"y": norm(x)}), [tf.TensorSpec((None, 4, 8), tf.float32, name="x")])
    assert "LayerNormalization" not in {node.op_type for node in proto.graph.node}
