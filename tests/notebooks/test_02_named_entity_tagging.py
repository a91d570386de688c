"""notebooks/02_named_entity_tagging.ipynb runs in quick mode and its tagger beats the all-O baseline."""

import pytest

from tests.notebooks.runner import execute_notebook, output_text, summary


@pytest.mark.slow
def test_named_entity_tagging_notebook():
    notebook = execute_notebook("02_named_entity_tagging.ipynb")
    results = summary(notebook)
    # Tagging every word O gets the baseline's word accuracy and an entity F1 of 0.
    assert results["test_word_accuracy"] > results["all_outside_baseline"] + 0.1, results
    assert 0.15 < results["test_entity_f1"] <= 1.0, results
    assert results["entity_types"] == ["DATE", "LOC", "ORG", "PER"]
    text = "\n".join(output_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "micro avg" in text  # seqeval's classification report was printed.
    assert "(PER)" in text  # Tagged sentences were shown.
