"""Numerical parity of exported files against the Keras model: the Keras reference, the tolerances, the typed error.

`KerasReference` computes once what the Keras model gives on the sample inputs
(its outputs, or the greedy tokens of a generative model, and the task metric)
and scores any backend that runs the exported parts against it. Every tolerance
lives here. Float variants (SavedModel, TFLite fp32, ONNX) must match the Keras
outputs within `FLOAT_TOLERANCE` (max absolute difference of every output; for
generative models, of the logits of every decode step along Keras's greedy path)
and reproduce Keras's greedy tokens exactly. Quantized variants (fp16,
dynamic-range int8, full int8, ONNX dynamic int8) may move the numbers, so their
gate is the task metric: at most `METRIC_TOLERANCE` points below the Keras
model's (accuracy, token accuracy, exact match or the caller's metric).

Example:
```python
reference = KerasReference(model, describe(model), sample_inputs, options)
report = reference.evaluate("onnx", OnnxBackend({"serving_default": "model.onnx"}))
report["max_abs_diff"]   # raises ParityError instead when above 1e-4
```
"""

import numpy as np

from export.graphs import input_specs
from kzoo.runtime import decoding

FLOAT_TOLERANCE = 1e-4
METRIC_TOLERANCE = 1.0  # Points of the task metric (percent).
QUANTIZED_VARIANTS = ("tflite_fp16", "tflite_dynamic_int8", "tflite_int8", "onnx_dynamic_int8", "onnx_int4")


class ParityError(ValueError):
    """An exported variant differs from the Keras model by more than its tolerance."""

    def __init__(self, variant, output, difference, tolerance, what="max abs diff"):
        self.variant, self.output, self.difference, self.tolerance = variant, output, difference, tolerance
        super().__init__(
            f"Export {variant} fails its parity check: {what} of `{output}` is {difference:.3g}, "
            f"above the tolerance {tolerance:.3g}."
        )


def compare_outputs(variant, expected, actual):
    """Max and mean absolute difference of each output present in both dicts."""
    report = {"variant": variant, "outputs": {}}
    for name, reference in expected.items():
        if name not in actual:
            raise ParityError(variant, name, float("inf"), 0.0, what="presence (missing output)")
        reference, value = np.asarray(reference, np.float64), np.asarray(actual[name], np.float64)
        if reference.shape != value.shape:
            raise ParityError(variant, name, float("inf"), 0.0, what=f"shape {value.shape} vs {reference.shape}")
        difference = np.abs(reference - value)
        report["outputs"][name] = {"max_abs_diff": float(difference.max()), "mean_abs_diff": float(difference.mean())}
    report["max_abs_diff"] = max(o["max_abs_diff"] for o in report["outputs"].values())
    return report


def is_quantized(variant):
    return variant in QUANTIZED_VARIANTS


def check(report, reference_metric=None):
    """Raise `ParityError` when `report` breaks its variant's gate; return the report."""
    variant = report["variant"]
    if not is_quantized(variant):
        for name, output in report["outputs"].items():
            if output["max_abs_diff"] > FLOAT_TOLERANCE:
                raise ParityError(variant, name, output["max_abs_diff"], FLOAT_TOLERANCE)
        if report.get("token_mismatches", 0):
            raise ParityError(variant, "tokens", report["token_mismatches"], 0, what="greedy tokens differing from Keras")
    if reference_metric is not None and report.get("metric") is not None:
        drop = reference_metric - report["metric"]
        report["metric_delta"] = -drop
        if drop > METRIC_TOLERANCE:
            raise ParityError(variant, report.get("metric_name", "metric"), drop, METRIC_TOLERANCE, what="task metric drop")
    return report


def _metric(kind, outputs, labels, sample_inputs):
    """The task metric in percent: accuracy, token accuracy or exact match."""
    if kind == "exact_match":
        return 100.0 * float(np.mean(np.all(outputs == labels, axis=1)))
    predictions = outputs.argmax(-1)
    if kind == "token_accuracy":
        weights = np.asarray(sample_inputs.get("padding_mask", np.ones(labels.shape)), bool)
        return 100.0 * float(np.mean(predictions[weights] == labels[weights]))
    return 100.0 * float(np.mean(predictions == labels))


class KerasReference:
    """What the Keras model gives on the sample inputs, and the parity report of any backend against it.

    Args:
        model: the Keras model being exported.
        description: its `kzoo.models.ExportDescription` (`export.graphs.describe`).
        sample_inputs: dict of named numpy arrays: a batch of task data, or for
            generative models the source (or equal-length prompts).
        options: `export.bundle.ExportOptions`: `labels`, `metric`,
            `max_new_tokens` and the special tokens decoding uses.

    Attributes:
        outputs: dict. The Keras outputs (`{"tokens": ...}` for generative models).
        metric_kind: str. "accuracy", "token_accuracy", "exact_match" or the
            caller's metric name.
        reference_metric: float. The Keras model's own score.

    Example:
    ```python
    reference = KerasReference(model, describe(model), batch, ExportOptions(special_tokens={"start": 2, "end": 3}))
    reference.evaluate("tflite_fp32", TFLiteBackend("model_fp32.tflite"))
    ```
    """

    def __init__(self, model, description, sample_inputs, options):
        self.model, self.description, self.sample_inputs = model, description, sample_inputs
        self.max_new_tokens, self.metric = options.max_new_tokens, options.metric
        self.decoding = options.decoding_options()
        self.layout = description.decoding_layout()
        self.source = {name: np.asarray(sample_inputs[name]) for name in description.source_inputs} if self.layout else None
        self.outputs = self._keras_outputs()
        key = "tokens" if self.layout else "logits"
        if self.metric:
            self.metric_kind = self.metric[0]
        elif self.layout:
            self.metric_kind = "exact_match"
        else:
            self.metric_kind = "token_accuracy" if self.outputs["logits"].ndim == 3 else "accuracy"
        # Without labels the metric is agreement with the Keras model itself.
        labels = options.labels
        self.labels = labels if labels is not None else (self.outputs[key] if self.layout else self.outputs[key].argmax(-1))
        self.reference_metric = self.score(self.outputs[key])
        self._feeds = None

    def _keras_outputs(self):
        if self.layout:
            options = self.decoding
            rules = {name: getattr(options, name) for name in decoding.TOKEN_RULES}
            return {"tokens": self.model.generate(self.source, self.max_new_tokens, start_token_id=options.start_token_id,
                                                  end_token_id=options.end_token_id, pad_token_id=options.pad_token_id,
                                                  **rules)}
        names = [spec.name for spec in input_specs(self.model)]
        outputs = self.model.predict({name: self.sample_inputs[name] for name in names}, verbose=0)
        return dict(outputs) if isinstance(outputs, dict) else {"logits": outputs}

    def score(self, outputs):
        """The task metric of `outputs` (logits, or greedy tokens of generative models)."""
        if self.metric:
            return float(self.metric[1](outputs))
        return _metric(self.metric_kind, outputs, self.labels, self.sample_inputs)

    def evaluate(self, variant, backend):
        """Parity report of one backend (output diffs, greedy tokens, task metric); raises `ParityError`."""
        if self.layout:
            positions = decoding.decoded_positions(self.description.max_length, self.description.encoder)
            tokens = decoding.generate(backend, self.layout, self.source, self.max_new_tokens, positions, self.decoding)
            report = self._step_diff(variant, backend)
            report["token_mismatches"] = int(np.sum(tokens != self.outputs["tokens"]))
            outputs = tokens
        else:
            feeds = {name: self.sample_inputs[name] for name in backend.input_names("serving_default")}
            actual = backend.run("serving_default", feeds)
            report = compare_outputs(variant, self.outputs, actual)
            outputs = actual["logits"]
        report["metric_name"] = self.metric_kind
        report["metric"] = self.score(outputs)
        return check(report, self.reference_metric)

    def _step_diff(self, variant, backend):
        """Logits of every decode step of Keras's greedy path through the exported step."""
        expected, actual = [], []
        for feeds in self.decode_feeds():
            state = {name: np.array(feeds[name]) for name in self.layout["state"]}  # The step writes caches in place.
            logits, _ = decoding.step(backend, self.layout, feeds["token_ids"], state, feeds["positions"])
            keras_logits, _ = self.model.decode_step(feeds["token_ids"], state, int(feeds["positions"][0]))
            expected.append(np.asarray(keras_logits))
            actual.append(logits)
        return compare_outputs(variant, {"logits": np.concatenate(expected, 1)}, {"logits": np.concatenate(actual, 1)})

    def decode_feeds(self):
        """`decode_step` inputs along Keras's greedy path: one dict per step (T = 1), computed once."""
        if self._feeds is not None:
            return self._feeds
        tokens = self.outputs["tokens"]
        if self.description.encoder:
            start = np.full((len(tokens), 1), self.decoding.start_token_id, "int32")
            path = np.concatenate([start, tokens], axis=1)
        else:
            lengths = self.source["padding_mask"].sum(1)
            if np.any(lengths != lengths[0]):
                raise ValueError("Sample prompts for a causal LM export must have equal lengths.")
            path = np.concatenate([self.source["token_ids"][:, : lengths[0]], tokens], axis=1)
        state = {k: np.asarray(v) for k, v in self.model.start_decoding(self.source, self.description.max_length).items()}
        feeds = []
        for index in range(min(path.shape[1] - 1, self.description.max_length - 1)):
            step_tokens = path[:, index : index + 1].astype("int32")
            rows = len(step_tokens)
            feeds.append(dict(state, token_ids=step_tokens, positions=np.full(rows, index, "int32"),
                              beam_parents=np.arange(rows, dtype="int32")))
            _, new_state = self.model.decode_step(step_tokens, state, index)
            state = {k: np.asarray(v) for k, v in new_state.items()}
        self._feeds = feeds
        return feeds

    def serving_inputs(self):
        """Inputs of the full forward pass; for generative models, teacher-forced on Keras's tokens."""
        if not self.layout:
            return self.sample_inputs
        tokens = self.outputs["tokens"]
        if self.description.encoder:
            start = np.full((len(tokens), 1), self.decoding.start_token_id, "int32")
            decoder = np.concatenate([start, tokens[:, :-1]], axis=1)
            return dict(self.source, decoder_token_ids=decoder, decoder_padding_mask=np.ones_like(decoder))
        ids = np.concatenate([self.source["token_ids"], tokens], axis=1)
        return {"token_ids": ids, "padding_mask": np.ones_like(ids)}
