"""export.parity: the Keras reference, the per-format gates, and the error that names what differed."""

import numpy as np
import pytest

import kzoo
from export.bundle import ExportOptions
from export.graphs import describe
from export.parity import FLOAT_TOLERANCE, KerasReference, ParityError, check, compare_outputs


def test_float_variants_must_match_and_quantized_ones_keep_the_metric():
    close = compare_outputs("onnx", {"logits": np.zeros(3)}, {"logits": np.full(3, FLOAT_TOLERANCE / 2)})
    assert check(close)["max_abs_diff"] == pytest.approx(FLOAT_TOLERANCE / 2)
    far = compare_outputs("onnx", {"logits": np.zeros(3)}, {"logits": np.ones(3)})
    with pytest.raises(ParityError, match="Export onnx fails its parity check: max abs diff of `logits` is 1"):
        check(far)
    quantized = dict(compare_outputs("tflite_int8", {"logits": np.zeros(3)}, {"logits": np.ones(3)}), metric=99.5)
    assert check(quantized, reference_metric=100.0)["metric_delta"] == pytest.approx(-0.5)
    with pytest.raises(ParityError, match="task metric drop of `metric` is 3"):
        check(dict(quantized, metric=97.0), reference_metric=100.0)
    with pytest.raises(ParityError, match="shape"):
        compare_outputs("onnx", {"logits": np.zeros(3)}, {"logits": np.zeros(4)})


class _KerasAsBackend:
    """A backend that answers with the Keras model's own forward pass, plus an offset."""

    def __init__(self, model, offset=0.0):
        self.model, self.offset = model, offset

    def input_names(self, part):
        return [tensor.name for tensor in self.model.inputs]

    def run(self, part, feeds):
        return {"logits": np.asarray(self.model.predict(feeds, verbose=0)) + self.offset}


def test_the_reference_scores_a_backend_against_the_keras_model():
    model = kzoo.create("classifier_tiny", vocabulary_size=30, max_sequence_length=8, num_classes=3)
    ids = np.random.default_rng(0).integers(5, 30, (6, 8)).astype("int32")
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    reference = KerasReference(model, describe(model), inputs, ExportOptions())
    assert reference.metric_kind == "accuracy" and reference.reference_metric == 100.0  # Agreement with itself.
    assert reference.evaluate("onnx", _KerasAsBackend(model))["max_abs_diff"] == 0.0
    with pytest.raises(ParityError, match="Export onnx fails"):
        reference.evaluate("onnx", _KerasAsBackend(model, offset=1e-3))
