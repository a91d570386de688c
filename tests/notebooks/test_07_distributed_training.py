"""notebooks/07_distributed_training.ipynb runs in quick mode: mirrored and two-worker runs match one device."""

import pytest

from tests.notebooks.runner import execute_notebook, summary

pytestmark = pytest.mark.slow

# As in tests/training/test_multi_worker.py, loosened for a small ViT trained with AdamW
# (measured: per-step losses within 3e-6, final weights within 7e-6).
LOSS_ATOL = 1e-4
WEIGHT_ATOL = 1e-4


@pytest.fixture(scope="module")
def result():
    return summary(execute_notebook("07_distributed_training.ipynb"))


def test_mirrored_two_logical_cpus_matches_single_device(result):
    assert result["mirrored_replicas"] == 2
    assert result["loss_moved"] > 0.1  # the run trained
    assert result["mirrored_loss_diff"] < LOSS_ATOL
    assert result["mirrored_weight_diff"] < WEIGHT_ATOL


def test_plain_keras_fails_on_two_workers(result):
    error = result["plain_keras_error"]
    assert "PerReplica" in error and "unsupported type" in error, error


def test_two_workers_agree_with_each_other_and_with_one_device(result):
    assert result["worker_exit_codes"] == [0, 0]
    assert result["worker_replicas"] == 2
    assert result["workers_identical"] is True
    assert result["chief_saved_matches"] is True
    assert result["worker_loss_diff"] < LOSS_ATOL
    assert result["worker_weight_diff"] < WEIGHT_ATOL
