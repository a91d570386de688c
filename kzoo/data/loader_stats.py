"""Counts of what a `kzoo.data` loader read, produced and skipped.

Pure Python. Every loader fills one `LoaderStats` (pass your own with
`stats=` to keep a handle on it); skipped lines are never silent.

Example:
```python
stats = kzoo.data.LoaderStats()
pairs = list(kzoo.data.read_parallel_tsv("pairs.tsv", skip_malformed=True, stats=stats))
print(stats.summary())
```
"""

import dataclasses

MAX_RECORDED_LINE_NUMBERS = 100


@dataclasses.dataclass
class LoaderStats:
    """What a loader did: lines read, examples produced, lines skipped.

    Args:
        files: list of str. Files read, in order.
        lines: int. Lines (or image files) read.
        examples: int. Examples produced.
        blank_lines: int. Empty lines, which separate records and are not data.
        skipped: int. Malformed lines (or files) skipped because
            `skip_malformed=True`.
        skipped_examples: int. Whole examples dropped because one of their
            lines was malformed (CoNLL sentences).
        skipped_locations: list of (str, int or None). File and line number of
            the first 100 skipped lines.

    Example:
    ```python
    stats = LoaderStats()
    stats.skip("pairs.tsv", 3)
    stats.summary()  # '0 examples from 0 lines; skipped 1 malformed line (pairs.tsv:3)'
    ```
    """

    files: list = dataclasses.field(default_factory=list)
    lines: int = 0
    examples: int = 0
    blank_lines: int = 0
    skipped: int = 0
    skipped_examples: int = 0
    skipped_locations: list = dataclasses.field(default_factory=list)

    def skip(self, path, line_number):
        """Counts one skipped malformed line of `path` (`line_number` may be None)."""
        self.skipped += 1
        if len(self.skipped_locations) < MAX_RECORDED_LINE_NUMBERS:
            self.skipped_locations.append((str(path), line_number))

    def summary(self):
        """One line for logs: examples, lines, and where the skipped lines were."""
        text = f"{self.examples} examples from {self.lines} lines"
        if self.skipped:
            shown = ", ".join(
                path if line is None else f"{path}:{line}"
                for path, line in self.skipped_locations[:5]
            )
            more = ", ..." if self.skipped > 5 else ""
            noun = "line" if self.skipped == 1 else "lines"
            text += f"; skipped {self.skipped} malformed {noun} ({shown}{more})"
        return text
