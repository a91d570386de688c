"""Plain-text tables for the command line: a header line, then one line per row.

Example:
```python
print(format_table([{"metric": "bleu", "value": "97.54"}], ["metric", "value"]))
```
"""


def format_table(rows, columns):
    """`rows` (dicts) as left-aligned columns named `columns`, trailing spaces trimmed."""
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)
