"""kzoo.commands.table: the command line's plain-text tables."""

from kzoo.commands.table import format_table


def test_columns_are_as_wide_as_their_widest_cell_and_lines_end_clean():
    rows = [{"metric": "bleu", "value": "97.54"}, {"metric": "exact_match", "value": ""}]
    assert format_table(rows, ["metric", "value"]).splitlines() == [
        "metric       value",
        "bleu         97.54",
        "exact_match",
    ]
