"""ONNX conversion through tf2onnx from explicit input signatures.

Keras 3 broke `tf2onnx.convert.from_keras`, so kzoo always converts a
`tf.function` with an explicit input signature (`tf2onnx.convert.from_function`).

Example:
```python
model_proto = convert_to_onnx(tf.function(step), input_signature=[...])
```
"""

DEFAULT_OPSET = 17


def convert_to_onnx(function, input_signature, opset=DEFAULT_OPSET, output_names=None):
    """Convert `function` to an `onnx.ModelProto` with input names from the TensorSpecs."""
    import tf2onnx

    options = {} if output_names is None else {"output_names": output_names}
    model, _ = tf2onnx.convert.from_function(function, input_signature=input_signature, opset=opset, **options)
    return model
