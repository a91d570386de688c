"""`kzoo bench`: the benchmark scripts of a kzoo checkout, run in a child process (what `make bench` runs).

The benchmarks live in the source tree (`benchmarks/`), not in the installed
package, and nothing in kzoo imports them: this runs
`python -m benchmarks.run_all` from the checkout, which rewrites its sections of
docs/benchmarks.md.

Example:
```python
run_benchmarks(only=["export"], quick=True, markdown="scratch.md")
```
"""

import subprocess
import sys
from pathlib import Path

RUN_ALL = [sys.executable, "-m", "benchmarks.run_all"]


def benchmark_areas(checkout="."):
    """The areas `benchmarks/run_all.py` of the checkout runs, in its order."""
    if not (Path(checkout) / "benchmarks" / "run_all.py").is_file():
        raise ValueError("the benchmarks live in the source tree; run `kzoo bench` (or `make bench`) from a kzoo checkout.")
    listed = subprocess.run(RUN_ALL + ["--list"], cwd=checkout, capture_output=True, text=True, check=True)
    return listed.stdout.split()


def run_benchmarks(only=None, quick=False, markdown="docs/benchmarks.md", checkout="."):
    """Runs every area (or `only` these) and returns the child's exit status; raises `ValueError` for an unknown area."""
    areas = benchmark_areas(checkout)
    unknown = sorted(set(only or ()) - set(areas))
    if unknown:
        raise ValueError(f"unknown benchmark area {', '.join(unknown)}; choose from {', '.join(areas)}.")
    arguments = ["--markdown", markdown] + (["--quick"] if quick else []) + (["--only", *only] if only else [])
    return subprocess.run(RUN_ALL + arguments, cwd=checkout).returncode
