"""notebooks/01_text_classification.ipynb runs in quick mode, learns, and draws its confusion matrix."""

import pytest

from tests.notebooks.runner import cell_by_tag, execute_notebook, images, summary


@pytest.mark.slow
def test_text_classification_notebook():
    notebook = execute_notebook("01_text_classification.ipynb")
    results = summary(notebook)
    # Eight balanced languages: chance is 12.5%; a few quick-mode steps already reach far more.
    assert results["chance"] == pytest.approx(0.125)
    assert results["test_accuracy"] > 3 * results["chance"], results
    assert len(images(cell_by_tag(notebook, "confusion_matrix"))) == 1
