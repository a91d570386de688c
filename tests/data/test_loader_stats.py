from kzoo.data.loader_stats import MAX_RECORDED_LINE_NUMBERS, LoaderStats


def test_summary_lists_the_first_skipped_lines():
    stats = LoaderStats(lines=10, examples=7)
    assert stats.summary() == "7 examples from 10 lines"
    for line in (2, 5, 6, 7, 8, 9):
        stats.skip("a.tsv", line)
    assert stats.summary() == "7 examples from 10 lines; skipped 6 malformed lines (a.tsv:2, a.tsv:5, a.tsv:6, a.tsv:7, a.tsv:8, ...)"


def test_skipped_locations_are_capped():
    stats = LoaderStats()
    for line in range(MAX_RECORDED_LINE_NUMBERS + 50):
        stats.skip("big.txt", line)
    assert stats.skipped == MAX_RECORDED_LINE_NUMBERS + 50
    assert len(stats.skipped_locations) == MAX_RECORDED_LINE_NUMBERS
