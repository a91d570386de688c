"""notebooks/03_translation.ipynb runs in quick mode: a BLEU table for both models, two attention maps, the GRU wirings by length."""

import math

import pytest

from kzoo.models.gru_seq2seq import ATTENTIONS
from tests.notebooks.runner import cell_by_tag, execute_notebook, images, output_text, summary

MODELS = ("transformer_tiny", "gru_tiny")


@pytest.mark.slow
def test_translation_notebook():
    notebook = execute_notebook("03_translation.ipynb")
    results = summary(notebook)
    assert results["test_phrases"] > 0
    for name in MODELS:
        for metric in ("bleu", "chrf", "exact_match"):
            value = results[name][metric]
            assert math.isfinite(value) and 0.0 <= value <= 100.0, (name, metric, value)
        assert results[name]["parameters"] > 100_000
    table = output_text(cell_by_tag(notebook, "bleu_table"))
    assert all(name in table for name in MODELS) and "BLEU" in table
    # The weights read out of the attention layers are one distribution over the source per output piece.
    assert results["attention_rows_sum_to_one"] is True
    assert len(images(cell_by_tag(notebook, "attention_heat_map"))) == 1
    # Every GRU wiring trained on the long task and scored by source length, up to sources of 80+ pieces.
    wirings = results["wirings"]
    assert sorted(wirings) == sorted(ATTENTIONS)
    for row in wirings.values():
        assert 0.0 <= row["bleu"] <= 100.0
        assert [band["band"] for band in row["bands"]] == ["0-19", "20-39", "40-59", "60-79", "80+"]
        assert sum(band["examples"] for band in row["bands"]) == 16  # Quick mode's test slice.
    assert all(name in output_text(cell_by_tag(notebook, "wiring_table")) for name in ATTENTIONS)
