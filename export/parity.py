"""Numerical parity of exported files against the Keras model: tolerances and the typed error.

Every tolerance lives here. Float variants (SavedModel, TFLite fp32, ONNX) must
match the Keras outputs within `FLOAT_TOLERANCE` (max absolute difference of every
output) and, for generative models, reproduce Keras's greedy tokens exactly.
Quantized variants (fp16, dynamic-range int8, full int8, ONNX dynamic int8) may
move the numbers, so their gate is the task metric: at most `METRIC_TOLERANCE`
points below the Keras model's (accuracy, token accuracy or exact match in %).

Example:
```python
report = compare_outputs("onnx", expected={"logits": a}, actual={"logits": b})
check(report, quantized=False)   # raises ParityError if max_abs_diff > 1e-4
```
"""

import numpy as np

FLOAT_TOLERANCE = 1e-4
METRIC_TOLERANCE = 1.0  # Points of the task metric (percent).
QUANTIZED_VARIANTS = ("tflite_fp16", "tflite_dynamic_int8", "tflite_int8", "onnx_dynamic_int8")


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
