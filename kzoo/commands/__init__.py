"""kzoo.commands: the `kzoo` command line, the top of kzoo (nothing below imports it).

The only place that ties kzoo and the `export` converters together: a run folder
becomes a bundle here, the quickstart runs here, the benchmarks are started here
(as a child process). Each subcommand is a thin handler in `main`; the glue lives in
`export` (a run to a bundle), `quickstart` and `bench`.

| command | what |
|---|---|
| `kzoo list` | presets (or `--tasks`, the bundled tasks) |
| `kzoo train` / `evaluate` | the fit recipe (`kzoo.training.recipe`) |
| `kzoo export` | a finished run to a bundle, parity checked (`kzoo.commands.export`) |
| `kzoo serve` | the HTTP server over a bundle (`kzoo.serve`, no TensorFlow) |
| `kzoo bench` | the benchmark scripts of a checkout (`kzoo.commands.bench`) |
| `kzoo quickstart` | train, evaluate, export and translate (`kzoo.commands.quickstart`) |

Example:
```
python -m kzoo.commands --help
```
"""

from kzoo.commands.main import main

__all__ = ["main"]
