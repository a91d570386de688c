"""notebooks/06_export_and_deploy.ipynb runs in quick mode: parity within tolerance, runtimes agree with Keras."""

import pytest

from export import parity
from tests.notebooks.runner import execute_notebook, summary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result():
    return summary(execute_notebook("06_export_and_deploy.ipynb"))


def test_quick_mode_exports_its_variants(result):
    # Quick mode writes this subset; the parity check skipped none of them.
    assert result["variants"] == ["onnx", "tflite_dynamic_int8", "tflite_fp32"]
    assert result["skipped"] == []


def test_float_variants_are_within_the_stated_tolerance(result):
    assert result["float_tolerance"] == parity.FLOAT_TOLERANCE
    assert set(result["float_max_abs_diff"]) == {"onnx", "tflite_fp32"}
    for variant, difference in result["float_max_abs_diff"].items():
        assert 0 <= difference <= parity.FLOAT_TOLERANCE, (variant, difference)
    assert all(count == 0 for count in result["float_token_mismatches"].values()), result["float_token_mismatches"]


def test_quantized_variant_keeps_the_task_metric(result):
    assert result["metric_tolerance"] == parity.METRIC_TOLERANCE
    assert result["metric_delta"]["tflite_dynamic_int8"] >= -parity.METRIC_TOLERANCE


def test_runtime_translations_equal_keras(result):
    same = result["same_as_keras"]
    assert same["onnx fp32"] == 1.0 and same["tflite fp32"] == 1.0, same
    # The int8 variant was decoded and scored against float too.
    assert "tflite dynamic_int8" in same and "tflite dynamic_int8" in result["exact_match"]


def test_runtime_runs_without_tensorflow(result):
    assert result["tf_free_output"] == "tensorflow imported: False | keras imported: False"
