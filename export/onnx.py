"""ONNX conversion through tf2onnx from explicit input signatures.

Keras 3 broke `tf2onnx.convert.from_keras`, so kzoo always converts a
`tf.function` with an explicit input signature (`tf2onnx.convert.from_function`).

ONNX Runtime's transformer optimizer (`fusion_report`) is run on every exported
Transformer graph and its fused-node counts go into the manifest. On tf2onnx
graphs of kzoo's Keras 3 models it currently fuses nothing (measured with
onnxruntime 1.31, model type `bert_tf`): tf2onnx lowers Keras 3's
`LayerNormalization` (tf.nn.moments + Rsqrt) to GlobalAveragePool / Sub / Sqrt /
Reciprocal chains that match neither tf2onnx's own layer-norm rewriter nor ORT's
fusion patterns, and kzoo's attention (one fused QKV projection, a fixed-size
cache) is not the Q/K/V MatMul pattern ORT looks for. The report keeps that
visible; kzoo ships the standard-op graph, which any ONNX runtime can run.

Example:
```python
model_proto = convert_to_onnx(tf.function(step), input_signature=[...])
fusion_report("model.onnx", num_heads=4, hidden_size=128)   # {"Attention": 0, ...}
```
"""

DEFAULT_OPSET = 17


def convert_to_onnx(function, input_signature, opset=DEFAULT_OPSET, output_names=None):
    """Convert `function` to an `onnx.ModelProto` with input names from the TensorSpecs."""
    import tf2onnx

    options = {} if output_names is None else {"output_names": output_names}
    model, _ = tf2onnx.convert.from_function(function, input_signature=input_signature, opset=opset, **options)
    return model


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
    import logging

    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    # The optimizer logs a warning per pattern it does not find; the counts say it all.
    logger = logging.getLogger("onnxruntime.transformers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        optimized = optimize_model(str(path), model_type=model_type, num_heads=num_heads, hidden_size=hidden_size,
                                   opt_level=0)
        statistics = optimized.get_fused_operator_statistics()
        after = len(optimized.model.graph.node)
    finally:
        logger.setLevel(level)
    report = {name: int(statistics.get(name, 0)) for name in FUSED_OPS_REPORTED}
    report["nodes_before"] = len(onnx.load(str(path), load_external_data=False).graph.node)
    report["nodes_after"] = after
    return report
