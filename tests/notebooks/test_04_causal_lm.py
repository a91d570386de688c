"""notebooks/04_causal_lm.ipynb runs in quick mode: perplexity falls, and greedy and top-p samples are drawn."""

import math

import pytest

from tests.notebooks.runner import cell_by_tag, execute_notebook, images, output_text, summary


@pytest.mark.slow
def test_causal_lm_notebook():
    notebook = execute_notebook("04_causal_lm.ipynb")
    results = summary(notebook)
    perplexity = results["validation_perplexity"]
    assert len(perplexity) == results["epochs"] >= 2
    assert all(math.isfinite(value) and value > 1.0 for value in perplexity), perplexity
    assert perplexity[-1] < perplexity[0], perplexity
    # Below the perplexity of guessing uniformly over the vocabulary.
    assert 1.0 < results["test_perplexity"] < results["vocabulary_size"], results
    assert results["greedy_repeatable"] is True
    assert results["samples_differ_from_greedy"] is True
    assert len(images(cell_by_tag(notebook, "perplexity_curve"))) == 1
    assert "validation perplexity" in output_text(cell_by_tag(notebook, "perplexity_curve"))
