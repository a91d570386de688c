"""notebooks/09_attention.ipynb runs in quick mode: attention by hand equals kzoo's layer, masks zero their keys,
per-head maps and rollout are drawn, and removing a head leaves the model's weights as they were."""

import math

import pytest

from tests.notebooks.runner import cell_by_tag, execute_notebook, images, output_text, summary

CLASSIFIER_HEADS = 2 * 4  # classifier_tiny's 2 layers, built with 4 heads each.
TRANSLATOR_HEADS = 6 * 4  # transformer_tiny: 2 encoder self-, 2 decoder self- and 2 cross-attentions of 4 heads.


@pytest.mark.slow
def test_attention_notebook():
    notebook = execute_notebook("09_attention.ipynb")
    results = summary(notebook)

    # Section 1: softmax(Q K^T / sqrt(d_k)) V by hand equals the layer with identity projections.
    assert results["worked_example_weights_difference"] < 1e-5, results
    assert results["worked_example_output_difference"] < 1e-5, results

    # Section 2: hidden keys get (almost) nothing, each row is still a distribution.
    assert results["masked_weight_max"] < 1e-6, results
    assert results["masked_row_sum_error"] < 1e-5, results
    assert results["decoder_look_ahead_max"] < 1e-6, results
    assert results["cross_attention_row_sum_error"] < 1e-5, results

    # Section 3: models learned something even in quick mode (8 languages: chance 12.5%; 10 digits: 10%).
    assert results["chance"] == pytest.approx(0.125)
    assert results["classifier_test_accuracy"] > 3 * results["chance"], results
    assert results["vit_preset"] == "vit_tiny"  # quick mode
    assert results["vit_test_accuracy"] > 0.3, results
    assert results["rollout_shape"] == [17, 17]  # The class token and 4x4 patches.
    assert results["rollout_row_sum_error"] < 1e-6, results
    for tag in ("classifier_heads", "translator_heads", "vit_heads", "rollout"):
        assert len(images(cell_by_tag(notebook, tag))) == 1, tag

    # Section 4: zeroing a head's rows of the output kernel removes exactly its term; heads add up.
    assert results["head_sum_difference"] < 1e-5, results
    without = results["accuracy_without_head"]
    assert len(without) == results["classifier_heads"] == CLASSIFIER_HEADS
    assert all(0.0 <= value <= 1.0 for value in without.values()), without
    assert results["accuracy_after_restoring"] == results["accuracy_intact"] == results["classifier_test_accuracy"]
    exact = results["exact_match_without_head"]
    assert len(exact) == TRANSLATOR_HEADS
    assert all(0.0 <= value <= 1.0 for value in [*exact.values(), results["exact_match_intact"]]), exact
    assert results["exact_match_after_restoring"] == results["exact_match_intact"]
    assert math.isfinite(results["translator_bleu"]) and 0.0 <= results["translator_bleu"] <= 100.0
    assert results["weights_restored"] is True
    assert "nothing" in output_text(cell_by_tag(notebook, "classifier_head_removal"))
    table = output_text(cell_by_tag(notebook, "translator_head_removal"))
    assert "decoder_block_1/cross_attention" in table and "head 3" in table
