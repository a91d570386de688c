"""ONNX: conversion through tf2onnx from explicit input signatures, and ONNX Runtime's dynamic int8.

Keras 3 broke `tf2onnx.convert.from_keras`, so kzoo always converts a
`tf.function` with an explicit input signature (`tf2onnx.convert.from_function`).

Keras 3's LayerNormalization (tf.nn.moments plus the batch-norm form) is
rewritten during conversion into one standard ONNX `LayerNormalization` node
(`rewrite_keras_layer_norm`): tf2onnx alone emits ~12 nodes per norm that neither
its own rewriter nor ONNX Runtime recognises.

ONNX Runtime's transformer optimizer (`fusion_report`) is run on every exported
Transformer graph and its fused-node counts go into the manifest (the shipped
files keep standard ops, which any ONNX runtime can run). Measured with
onnxruntime 1.31, model type `bert_tf`, on the quickstart translator: 6
SkipLayerNormalization fusions in `encoder.onnx`, 9 in `decoder_step.onnx`, no
Attention fusion (kzoo's attention, one fused QKV projection with a fixed-size
cache, is not the Q/K/V MatMul pattern ORT looks for).

`quantize_dynamic_int8` writes the ONNX Runtime dynamic-int8 variant: both QInt8
and QUInt8 weights are tried and the one with the better task metric is kept.
`quantize_int4` writes the weight-only int4 variant: every MatMul with a constant
weight becomes a `MatMulNBits` node (ONNX Runtime's contrib op) holding symmetric
4-bit weights in blocks of `INT4_BLOCK_SIZE` input rows, each block with its own
scale (onnxruntime's `MatMulNBitsQuantizer`). Embedding tables (Gather) stay float.

Example:
```python
model_proto = convert_to_onnx(tf.function(step), input_signature=[...])
fusion_report("model.onnx", num_heads=4, hidden_size=128)   # {"Attention": 0, ...}
```
"""

import contextlib
import json
import logging

import numpy as np

DEFAULT_OPSET = 17


def convert_to_onnx(function, input_signature, opset=DEFAULT_OPSET, output_names=None):
    """Convert `function` to an `onnx.ModelProto` with input names from the TensorSpecs."""
    import tf2onnx

    options = {} if output_names is None else {"output_names": output_names}
    model, _ = tf2onnx.convert.from_function(function, input_signature=input_signature, opset=opset,
                                             custom_rewriter=[rewrite_keras_layer_norm], **options)
    return model


def rewrite_keras_layer_norm(graph, ops):
    """tf2onnx rewriter: Keras 3's LayerNormalization subgraph -> one ONNX LayerNormalization (opset >= 17).

    Keras 3 normalizes with tf.nn.moments and the batch-norm form
    `x * inv + (beta - mean * inv)`, `inv = rsqrt(variance + epsilon) * gamma`, which
    neither tf2onnx's own layer-norm rewriter nor ONNX Runtime recognises: tf2onnx
    emitted ~12 nodes per layer norm. Measured on the quickstart encoder (batch 8,
    sequence 128, ONNX Runtime, 2 threads): 355 -> 283 nodes, 13.5 -> 12.9 ms, outputs
    within 2.4e-6. Only matches with constant gamma and beta over the last axis are
    rewritten; anything else converts as before.
    """
    from tf2onnx import utils
    from tf2onnx.graph_matcher import GraphMatcher, OpTypePattern

    if graph.opset < 17:
        return ops
    constant = "Const|ConstV2"
    variance = OpTypePattern("Mean", inputs=[
        OpTypePattern("SquaredDifference", name="difference", inputs=["*", OpTypePattern("StopGradient", name="stop")]),
        OpTypePattern(constant, name="variance_axes"),
    ])
    inverse = OpTypePattern("Mul", name="inverse", inputs=[
        OpTypePattern("Rsqrt", inputs=[OpTypePattern("AddV2|Add", inputs=[variance, OpTypePattern(constant, name="epsilon")])]),
        OpTypePattern(constant, name="gamma"),
    ])
    pattern = OpTypePattern("AddV2|Add", name="output", inputs=[
        OpTypePattern("Mul", name="scaled", inputs=["*", inverse]),
        OpTypePattern("AddV2|Add", name="shift", inputs=[
            OpTypePattern("Mul", inputs=[OpTypePattern("Neg", name="negated"), "*"]),
            OpTypePattern(constant, name="beta"),
        ]),
    ])
    for match in list(GraphMatcher(pattern, allow_reorder=True).match_ops(ops)):
        mean_op = match.get_op("stop").inputs[0]
        if mean_op is None or mean_op.type != "Mean" or mean_op.inputs[1].type not in constant.split("|"):
            continue
        x = mean_op.input[0]  # The tensor name: its producer may have several outputs.
        inverse_op, scaled, shift = match.get_op("inverse"), match.get_op("scaled"), match.get_op("shift")
        rank = graph.get_rank(x)
        same_input = (
            match.get_op("negated").input[0] == mean_op.output[0]
            and x in scaled.input
            and x in match.get_op("difference").input
            and any(inverse_op.output[0] in node.input for node in shift.inputs)
        )
        axes = np.reshape(mean_op.inputs[1].get_tensor_value(as_list=False), [-1])
        last_axis = rank is not None and list(axes) in ([-1], [rank - 1])
        if not same_input or not last_axis or list(np.reshape(match.get_op("variance_axes").get_tensor_value(as_list=False), [-1])) != list(axes):
            continue
        output = match.get_op("output")
        dtype = utils.map_onnx_to_numpy_type(graph.get_dtype(output.output[0]))
        gamma = graph.make_const(utils.make_name("layer_norm_gamma"),
                                 np.reshape(match.get_op("gamma").get_tensor_value(as_list=False), [-1]).astype(dtype))
        beta = graph.make_const(utils.make_name("layer_norm_beta"),
                                np.reshape(match.get_op("beta").get_tensor_value(as_list=False), [-1]).astype(dtype))
        epsilon = float(np.reshape(match.get_op("epsilon").get_tensor_value(as_list=False), [-1])[0])
        node = graph.make_node("LayerNormalization", [x, gamma.output[0], beta.output[0]],
                               attr={"axis": -1, "epsilon": epsilon}, shapes=[graph.get_shape(output.output[0])],
                               dtypes=[graph.get_dtype(output.output[0])])
        graph.replace_all_inputs(output.output[0], node.output[0], ops=None)
    return graph.get_nodes()


@contextlib.contextmanager
def quiet_logger(name=None):
    """Raise logger `name` (the root logger by default) to ERROR for the duration of the block."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


FUSED_OPS_REPORTED = ("Attention", "MultiHeadAttention", "LayerNormalization", "SkipLayerNormalization",
                      "EmbedLayerNormalization", "Gelu", "FastGelu", "BiasGelu")


def fusion_report(path, num_heads, hidden_size, model_type="bert_tf"):
    """Nodes ONNX Runtime's transformer optimizer would fuse in the ONNX file at `path`.

    Args:
        path: an ONNX file.
        num_heads: int, attention heads of the model.
        hidden_size: int, model width.
        model_type: the optimizer's model type; "bert_tf" fits tf2onnx graphs.

    Returns:
        dict of fused-op name -> count, for the ops in `FUSED_OPS_REPORTED`, plus
        "nodes_before" and "nodes_after".
    """
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    # The optimizer logs a warning per pattern it does not find; the counts say it all.
    with quiet_logger("onnxruntime.transformers"):
        optimized = optimize_model(str(path), model_type=model_type, num_heads=num_heads, hidden_size=hidden_size,
                                   opt_level=0)
    statistics = optimized.get_fused_operator_statistics()
    after = len(optimized.model.graph.node)
    report = {name: int(statistics.get(name, 0)) for name in FUSED_OPS_REPORTED}
    report["nodes_before"] = len(onnx.load(str(path), load_external_data=False).graph.node)
    report["nodes_after"] = after
    return report


def embed_metadata(proto, part, manifest_fields):
    """Writes what a runtime needs into the ONNX file's `metadata_props`: its part and the bundle's task."""
    values = {"kzoo_part": part, **{f"kzoo_{key}": value if isinstance(value, str) else json.dumps(value)
                                    for key, value in manifest_fields.items()}}
    for key, value in values.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value


WEIGHT_TYPES = ("QInt8", "QUInt8")


ONNX_QUANTIZATIONS = ("dynamic_int8", "int4")
INT4_BLOCK_SIZE = 32
# MatMulNBits' compute type: 4 quantizes the activations to int8 per block and multiplies in int8 (the
# fast CPU path); weights stay 4-bit either way.
INT4_ACCURACY_LEVEL = 4


def quantize_int4(folder, parts, evaluate, progress=lambda message: None):
    """Weight-only blockwise int4 of the fp32 files `parts` (part -> file in `folder`), written as `<stem>_int4.onnx`.

    Returns `(parts, report, error)` as `quantize_dynamic_int8` does: the files and
    their parity report (`evaluate(parts)`), or `(None, None, error)` with the
    files removed when parity fails.
    """
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    from export.parity import ParityError

    progress(f"quantizing ONNX (int4, blocks of {INT4_BLOCK_SIZE})")
    written = {part: filename.replace(".onnx", "_int4.onnx") for part, filename in parts.items()}
    with quiet_logger(), quiet_logger("onnxruntime.quantization.matmul_nbits_quantizer"):
        for part, filename in parts.items():
            quantizer = MatMulNBitsQuantizer(onnx.load(str(folder / filename)), block_size=INT4_BLOCK_SIZE,
                                             is_symmetric=True, accuracy_level=INT4_ACCURACY_LEVEL)
            quantizer.process()
            quantizer.model.save_model_to_file(str(folder / written[part]), use_external_data_format=False)
    try:
        report = dict(evaluate(written), block_size=INT4_BLOCK_SIZE, matmul_nbits=sum(
            node.op_type == "MatMulNBits" for filename in written.values()
            for node in onnx.load(str(folder / filename), load_external_data=False).graph.node))
    except ParityError as error:
        for filename in written.values():
            (folder / filename).unlink(missing_ok=True)
        return None, None, error
    return written, report, None


def quantize_dynamic_int8(folder, parts, evaluate, progress=lambda message: None):
    """ONNX Runtime dynamic int8 of the fp32 files `parts` (part -> file in `folder`), the better weight type kept.

    Each weight type writes `<stem>_<type>.onnx` beside the fp32 file of every
    part and is scored by `evaluate(parts) -> parity report` (which raises
    `export.parity.ParityError` when it fails); the files of the worse type are
    removed.

    Returns:
        `(parts, report, error)`: the kept files by part and their report with
        `weight_type`; or `(None, None, error)` when both types fail parity, their
        files removed, `error` the better one's `ParityError`.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from export.parity import ParityError

    results = []  # (metric, files by part, report or None, ParityError or None) per weight type
    for weight_type in WEIGHT_TYPES:
        progress(f"quantizing ONNX ({weight_type})")
        written = {part: filename.replace(".onnx", f"_{weight_type.lower()}.onnx") for part, filename in parts.items()}
        with quiet_logger():  # Its "consider pre-processing" advice (on the root logger) is for CNNs.
            for part, filename in parts.items():
                quantize_dynamic(str(folder / filename), str(folder / written[part]), weight_type=getattr(QuantType, weight_type))
        try:
            report = dict(evaluate(written), weight_type=weight_type)
            results.append((report["metric"], written, report, None))
        except ParityError as error:
            results.append((-1.0, written, None, error))
    best = max(results, key=lambda result: result[0])  # The first of equals: QInt8.
    for result in results:
        if result is not best or best[2] is None:
            for filename in result[1].values():
                (folder / filename).unlink(missing_ok=True)
    _, kept, report, error = best
    return (kept, report, None) if report is not None else (None, None, error)
