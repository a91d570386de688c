"""TFLite (LiteRT): conversion with TFLite builtins only, from frozen concrete functions, and its quantization.

Why the functions are frozen first: converting a Keras 3 model's concrete function
(or a SavedModel holding its variables) keeps the weights as resource variables
(`VAR_HANDLE` / `READ_VARIABLE` ops); ai-edge-litert's signature runner then reads
them uninitialised and returns NaN (measured with TF 2.21 / ai-edge-litert 2.3).
Freezing the variables into constants and saving a variable-free SavedModel gives
named signatures and exact outputs.

Quantization variants are a closed list (`QUANTIZATIONS`), made with the TFLite
converter's post-training quantization, not ai-edge-quantizer (0.10), because it
holds accuracy with smaller files. Measured on the quickstart translator
(transformer_small on numbers_en_de; BLEU of greedy output on 64 test phrases;
Keras 93.3): converter dynamic int8 0.30x the fp32 file, BLEU 93.3 (per-tensor
dense weights, see `quantization`); converter full int8 0.38x, BLEU 92.8;
ai-edge-quantizer dynamic_wi8_afp32 0.59x, BLEU 93.3; weight_only_wi8 0.59x, BLEU
94.0; static_wi8_ai8 0.41x, BLEU 93.2 but a largest logit error of 125 (1.24 for
the converter's full int8). ai-edge-quantizer also pins ai-edge-litert to one
exact version. For full int8 the converter keeps the attention score products
(the activation x activation BATCH_MATMULs of self- and cross-attention) and the
sinusoidal position encoding (SIN, COS, RANGE) in float; every projection,
feed-forward and embedding runs int8. Those float ops are listed per bundle
(`float_fallback_ops` in the manifest, from `float_ops`). Quantizing the score
products too, as the static a8w8 recipe does, is where the logits blow up here
(largest error 125): the likely cause of the repeated tokens users report for
int8 encoder-decoders.

Example:
```python
step = tf.function(model.decode_step, input_signature=[...])
flatbuffer = convert_to_tflite({"decode_step": step.get_concrete_function()})
flatbuffer = convert_to_tflite(signatures, configure=quantization("dynamic_int8"))
```
"""

import os
import tempfile
import warnings

import numpy as np

QUANTIZATIONS = ("fp32", "fp16", "dynamic_int8", "int8")


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


def quantization(precision, representative_dataset=None):
    """A `configure(converter)` callable for one of `QUANTIZATIONS`.

    Args:
        precision: str. "fp32", "fp16", "dynamic_int8" or "int8".
        representative_dataset: callable yielding `(signature, inputs)` samples;
            full int8 ("int8") calibrates its activation ranges on them.
    """
    import tensorflow as tf

    def configure(converter):
        if precision == "fp32":
            return
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if precision == "fp16":
            converter.target_spec.supported_types = [tf.float16]
        elif precision == "dynamic_int8":
            # One scale per weight matrix, not per output row. A tied output projection then
            # quantizes to the very bytes of the embedding table, which the converter stores
            # once (per row it was a second copy), and the per-row scales go too. Measured on
            # the quickstart translator: 0.35x -> 0.30x the fp32 file, BLEU 94.0 -> 93.3 with
            # 0 of 64 greedy outputs differing from Keras (3 before).
            converter._experimental_disable_per_channel_quantization_for_dense_layers = True
        elif precision == "int8":
            converter.representative_dataset = representative_dataset
            # Ops without an int8 kernel fall back to float (listed in the manifest).
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]

    return configure


def representative_dataset(reference, graphs, static_batch):
    """Full-int8 calibration samples `(signature, inputs)` along the Keras reference, with each input's dtype.

    Args:
        reference: `export.parity.KerasReference` (its sample inputs, teacher-forced
            forward inputs and greedy decode-step inputs).
        graphs: name -> `export.graphs.Graph` (for the input names and dtypes).
        static_batch: bool. One row per sample (signatures with a fixed batch of 1).
    """
    rows = len(next(iter(reference.sample_inputs.values())))

    def samples(feeds, graph, one_row_each, skip=()):
        for row in range(rows) if one_row_each else [None]:
            picked = {k: v if row is None or k in skip else np.asarray(v)[row : row + 1] for k, v in feeds.items()}
            yield {spec.name: np.asarray(picked[spec.name], spec.dtype.as_numpy_dtype) for spec in graph.input_signature}

    def generate():
        for name, graph in graphs.items():
            if name == "decode_step":
                for feeds in reference.decode_feeds():
                    yield from ((name, sample) for sample in samples(feeds, graph, static_batch))
            elif name == "encode":
                yield from ((name, sample) for sample in samples(reference.source, graph, static_batch))
            else:  # The forward pass calibrates row by row, on the inputs of Keras's own greedy path.
                yield from ((name, sample) for sample in samples(reference.serving_inputs(), graph, True))

    return generate


def float_ops(path):
    """Names of the ops a TFLite file runs in float (the int8 fallbacks)."""
    from tensorflow.lite.python import schema_py_generated as schema

    with open(path, "rb") as handle:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(handle.read(), 0))
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    found = set()
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            inputs = [subgraph.tensors[i] for i in op.inputs if i >= 0]
            if any(t.type == schema.TensorType.FLOAT32 for t in inputs) and names.get(builtin) not in ("DEQUANTIZE", "QUANTIZE"):
                found.add(names.get(builtin, str(builtin)))
    return sorted(found)
