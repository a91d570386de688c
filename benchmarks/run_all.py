"""Run every benchmark and regenerate docs/benchmarks.md.

`make bench` runs `python -m benchmarks.run_all`. Each area has a module in this
package with a `main(argv=None)` that prints its table, returns its rows, and, given
`--markdown PATH`, writes or replaces its own section of that file. A section is
delimited by `<!-- NAME:start -->` and `<!-- NAME:end -->`, so areas are regenerated
one at a time without touching the others; `write_section` below is the shared
helper that does that.

The areas in `MODULES` run first, in that order (those that do not exist yet are
skipped, and the skip is printed); any other module in this folder with a `main`
runs after them.

Example:
```
python -m benchmarks.run_all                       # every area -> docs/benchmarks.md
python -m benchmarks.run_all --quick --markdown scratch.md  # docs untouched
python -m benchmarks.layers --markdown docs/benchmarks.md   # one area
```
"""

import argparse
import importlib
import os
import pkgutil
import re
import sys
import time

MODULES = ("layers", "data", "models", "generation", "export", "serve")
DEFAULT_MARKDOWN = os.path.join("docs", "benchmarks.md")

HEADER = """# Benchmarks

Generated; do not edit the sections by hand. Regenerate every section with

```
make bench
```

(which runs `python -m benchmarks.run_all`), or one area with its module, e.g.

```
python -m benchmarks.layers --markdown docs/benchmarks.md
```

Each area's module lives in `benchmarks/` and rewrites only its own section, between
`<!-- NAME:start -->` and `<!-- NAME:end -->`. Every section records the command,
the machine, the library versions and the date it was measured on. Numbers from
different machines, or from runs on a loaded machine, are not comparable; each
section says how much its repetitions varied.
"""


def write_section(path, name, body):
    """Write `body` as section `name` of the markdown file `path`, replacing any old one.

    Creates the file (with `HEADER`) when it does not exist; appends the section
    when the file has none by that name; leaves every other section untouched.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}\n"
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    if not text.strip():
        text = HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def write_json(path, value):
    """Write a benchmark's rows as JSON (`--json PATH`), for scripts and tests that read them."""
    import json

    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1, default=str)


def usable_cores():
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def table(header, body, markdown, right=()):
    """A table of strings: markdown (`right` columns right-aligned) or padded plain text for the terminal.

    Example: `print(table(["variant", "ms"], [["onnx", "1.6"]], markdown=False, right=(1,)))`.
    """
    if markdown:
        rule = ["---:" if i in right else "---" for i in range(len(header))]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, rule, *body])
    widths = [max(len(str(cells[i])) for cells in [header, *body]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        for cells in [header, *body]
    )


def load_average():
    """The 1/5/15-minute load average as text ("n/a" where the OS has none)."""
    try:
        return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    except OSError:
        return "n/a"


def machine():
    """CPU model, core counts, library versions and date, as a dict of strings."""
    import datetime
    import platform

    import keras
    import keras_hub
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": f"{usable_cores()} usable ({os.cpu_count()} logical)",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_hub": keras_hub.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def area_names():
    """`MODULES`, then any other module of this package, alphabetically."""
    found = {info.name for info in pkgutil.iter_modules([os.path.dirname(os.path.abspath(__file__)) or "."])}
    extra = sorted(found - set(MODULES) - {"run_all", "__init__"})
    return list(MODULES) + extra


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", default=DEFAULT_MARKDOWN, help=f"file to update (default {DEFAULT_MARKDOWN})")
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("--only", nargs="+", metavar="AREA", help=f"run only these areas ({', '.join(MODULES)}, ...)")
    parser.add_argument("--list", action="store_true", help="print the area names, one per line, and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(area_names()))
        return {}

    results, skipped = {}, []
    for name in args.only or area_names():
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"benchmarks.{name}":
                raise  # The module exists but one of its imports is missing: a real failure.
            skipped.append(name)
            print(f"[run_all] benchmarks/{name}.py does not exist yet; skipped.", flush=True)
            continue
        if not hasattr(module, "main"):
            skipped.append(name)
            print(f"[run_all] benchmarks/{name}.py has no main(); skipped.", flush=True)
            continue
        print(f"[run_all] benchmarks.{name} ...", flush=True)
        started = time.perf_counter()
        module_argv = ["--markdown", args.markdown] + (["--quick"] if args.quick else [])
        results[name] = module.main(module_argv)
        print(f"[run_all] benchmarks.{name} took {time.perf_counter() - started:.0f} s.", flush=True)
    print(f"[run_all] ran: {', '.join(results) or 'nothing'}; skipped: {', '.join(skipped) or 'nothing'}.")
    if results:
        print(f"[run_all] updated {args.markdown}.")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
