"""A one-token decode step built from kzoo layers converts to ONNX and to TFLite builtins.

keras-hub's cached decoder writes its cache with XlaDynamicUpdateSlice, which
tf2onnx rejects; these tests pin that ours converts with both tools, with no Select
TF ops, and that ONNX Runtime and LiteRT reproduce the Keras step over several steps.
"""

import numpy as np
import pytest
import tensorflow as tf

from export.onnx import convert_to_onnx
from export.tflite import convert_to_tflite
from kzoo.layers import (
    PositionEmbedding,
    ReversibleEmbedding,
    SinusoidalPositionEncoding,
    TransformerDecoderBlock,
)

VOCAB, WIDTH, HEADS, LAYERS, MAX_LENGTH, SOURCE_LENGTH, BATCH = 37, 16, 2, 2, 6, 5, 2
HEAD = WIDTH // HEADS


class _DecodeStep(tf.Module):
    """token [B, 1] + caches + index -> logits [B, 1, V] + updated self-attention cache."""

    def __init__(self, cross_attention, learned_positions):
        super().__init__()
        self.cross_attention = cross_attention
        self.embedding = ReversibleEmbedding(VOCAB, WIDTH)
        self.positions = PositionEmbedding(MAX_LENGTH) if learned_positions else SinusoidalPositionEncoding()
        self.blocks = [TransformerDecoderBlock(HEADS, 32, normalize_first=learned_positions) for _ in range(LAYERS)]
        x = self.embedding(np.zeros((BATCH, MAX_LENGTH), "int32"))
        self.positions(x)
        memory = np.random.default_rng(0).normal(size=(BATCH, SOURCE_LENGTH, WIDTH)).astype("float32")
        for block in self.blocks:
            block(x, memory) if cross_attention else block(x)

    def step(self, token_ids, cache, cross_cache, encoder_padding_mask, index):
        hidden = self.embedding(token_ids)
        hidden = hidden + self.positions(hidden, start_index=index)
        updated = []
        for layer, block in enumerate(self.blocks):
            cross = {}
            if self.cross_attention:
                cross = dict(cross_attention_cache=cross_cache[:, layer], encoder_padding_mask=encoder_padding_mask)
            hidden, layer_cache = block(hidden, self_attention_cache=cache[:, layer], cache_index=index, **cross)
            updated.append(layer_cache)
        return self.embedding(hidden, reverse=True), tf.stack(updated, axis=1)

    def signature(self):
        return [
            tf.TensorSpec([None, 1], tf.int32, name="token_ids"),
            tf.TensorSpec([None, LAYERS, 2, HEADS, MAX_LENGTH, HEAD], tf.float32, name="cache"),
            tf.TensorSpec([None, LAYERS, 2, HEADS, None, HEAD], tf.float32, name="cross_cache"),
            tf.TensorSpec([None, None], tf.int32, name="encoder_padding_mask"),
            tf.TensorSpec([], tf.int32, name="index"),
        ]


def _inputs(module):
    rng = np.random.default_rng(1)
    memory = rng.normal(size=(BATCH, SOURCE_LENGTH, WIDTH)).astype("float32")
    if module.cross_attention:
        cross = np.stack([b.compute_cross_attention_cache(memory).numpy() for b in module.blocks], 1)
    else:
        cross = np.zeros((BATCH, LAYERS, 2, HEADS, 1, HEAD), "float32")
    mask = np.array([[1, 1, 1, 0, 0], [1] * 5], "int32")
    tokens = rng.integers(0, VOCAB, size=(BATCH, MAX_LENGTH)).astype("int32")
    return tokens, cross, mask


def _decode(run, module):
    """Feed the same tokens for MAX_LENGTH steps through `run`; return every step's logits."""
    tokens, cross, mask = _inputs(module)
    cache = np.zeros((BATCH, LAYERS, 2, HEADS, MAX_LENGTH, HEAD), "float32")
    logits = []
    for t in range(MAX_LENGTH):
        step_logits, cache = run(tokens[:, t : t + 1], cache, cross, mask, np.array(t, "int32"))
        logits.append(np.asarray(step_logits))
        cache = np.asarray(cache)
    return np.concatenate(logits, axis=1)


def _keras_run(module):
    return lambda *args: [np.asarray(x) for x in module.step(*args)]


@pytest.fixture(scope="module", params=[(True, False), (False, True)], ids=["seq2seq", "decoder_only"])
def module(request):
    return _DecodeStep(*request.param)


def test_tflite_builtins_only_reproduces_the_keras_step(module):
    from ai_edge_litert.interpreter import Interpreter

    function = tf.function(module.step, input_signature=module.signature())
    flatbuffer = convert_to_tflite({"decode_step": function.get_concrete_function()})  # Builtins only.
    runner = Interpreter(model_content=flatbuffer).get_signature_runner("decode_step")
    names = [spec.name for spec in module.signature()]

    def run(*args):
        outputs = runner(**dict(zip(names, args)))
        return [outputs[key] for key in sorted(outputs)]  # output_0: logits, output_1: cache

    np.testing.assert_allclose(_decode(run, module), _decode(_keras_run(module), module), atol=1e-4)


def test_onnx_reproduces_the_keras_step(module):
    import onnxruntime

    model = convert_to_onnx(tf.function(module.step), input_signature=module.signature())
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    order = [spec.name for spec in module.signature()]

    def run(*args):
        feeds = dict(zip(order, args))
        return session.run(None, {name: feeds[name.split(":")[0]] for name in names})

    np.testing.assert_allclose(_decode(run, module), _decode(_keras_run(module), module), atol=1e-4)
