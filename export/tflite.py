"""TFLite (LiteRT) conversion with TFLite builtins only, from frozen concrete functions.

Why the functions are frozen first: converting a Keras 3 model's concrete function
(or a SavedModel holding its variables) keeps the weights as resource variables
(`VAR_HANDLE` / `READ_VARIABLE` ops); ai-edge-litert's signature runner then reads
them uninitialised and returns NaN (measured with TF 2.21 / ai-edge-litert 2.3).
Freezing the variables into constants and saving a variable-free SavedModel gives
named signatures and exact outputs.

Example:
```python
step = tf.function(model.decode_step, input_signature=[...])
flatbuffer = convert_to_tflite({"decode_step": step.get_concrete_function()})
```
"""

import os
import tempfile
import warnings


class SelectOpsRequiredError(ValueError):
    """The model needs TensorFlow (Select TF) ops, which builtins-only TFLite lacks."""


def freeze(concrete_function):
    """A copy of `concrete_function` with every captured variable turned into a constant.

    Freezing flattens the outputs into a list (their names would become
    `output_0`, ...), so the frozen graph is wrapped again to return the original
    output dict: TFLite signature outputs keep names such as `logits`.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(concrete_function)
    structure = concrete_function.structured_outputs
    specs = [
        tf.TensorSpec(tensor.shape, tensor.dtype, name=tensor.name.split(":")[0])
        for tensor in concrete_function.inputs[: len(frozen.inputs)]
    ]

    def named(*args):
        return tf.nest.pack_sequence_as(structure, frozen(*args))

    return tf.function(named, input_signature=specs).get_concrete_function()


def convert_to_tflite(signatures, allow_select_ops=False, configure=None):
    """Convert named concrete functions into one TFLite flatbuffer with those signatures.

    Args:
        signatures: dict of signature name -> `tf.types.experimental.ConcreteFunction`.
        allow_select_ops: bool. Also allow Select TF ops (a ~180 MB runtime on
            phones). Defaults to False: a model needing them raises
            `SelectOpsRequiredError` naming the ops.
        configure: optional callable taking the `tf.lite.TFLiteConverter` to set
            quantization options before conversion.

    Returns:
        bytes, the flatbuffer.
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "frozen")
        frozen = {name: freeze(function) for name, function in signatures.items()}
        tf.saved_model.save(tf.Module(), path, signatures=frozen)
        converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=list(frozen))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if allow_select_ops:
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
        if configure is not None:
            configure(converter)
        try:
            with warnings.catch_warnings():
                # The converter's int8 calibration runs TF's own (deprecated) interpreter
                # internally; the warning is about TF's code, not the caller's.
                warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
                return converter.convert()
        except Exception as error:  # The converter raises a generic ConverterError.
            message = str(error)
            if "TF Select ops:" in message or "ERROR_NEEDS_FLEX_OPS" in message:
                ops = sorted(set(_select_op_names(message)))
                raise SelectOpsRequiredError(
                    f"TFLite builtins cannot run the TensorFlow ops {', '.join(ops)}; "
                    "pass allow_select_ops=True (--allow-select-ops) to bundle them."
                ) from None
            raise


def _select_op_names(message):
    for line in message.splitlines():
        if line.startswith("TF Select ops:"):
            yield from (name.strip() for name in line.split(":", 1)[1].split(","))
