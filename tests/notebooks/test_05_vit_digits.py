"""notebooks/05_vit_digits.ipynb runs in quick mode, its ViT learns the digits, and it draws its mistakes."""

import pytest

from tests.notebooks.runner import cell_by_tag, execute_notebook, images, output_text, summary


@pytest.mark.slow
def test_vit_digits_notebook():
    notebook = execute_notebook("05_vit_digits.ipynb")
    results = summary(notebook)
    assert results["preset"] == "vit_tiny"  # quick mode
    assert results["test_examples"] == 180
    # Ten balanced classes: chance is 10%; the 4 quick-mode epochs reach about 80%.
    assert results["test_accuracy"] > 0.5, results
    assert results["misclassified"] == round(180 * (1 - results["test_accuracy"]))
    grid = cell_by_tag(notebook, "misclassified")
    if results["misclassified"]:
        assert len(images(grid)) == 1
    else:
        assert "No test image is misclassified" in output_text(grid)
