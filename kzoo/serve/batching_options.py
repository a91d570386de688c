"""`BatchingOptions`: how `kzoo serve` batches requests (`--batch-rows`, `--batch-wait-ms`, `--no-batching`).

Example:
```python
app = create_app(model, batching=BatchingOptions(rows=64, wait_ms=5))
```
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchingOptions:
    """Dynamic batching settings (see `kzoo.serve.batcher.Batcher`).

    Attributes:
        rows: int. Most rows (texts or images) per backend call. Defaults to 32.
        wait_ms: float. Longest wait of a request for company while another call runs. Defaults to 2.

    Example: `BatchingOptions(rows=64, wait_ms=5)`.
    """

    rows: int = 32
    wait_ms: float = 2.0
