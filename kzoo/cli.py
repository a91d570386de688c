"""The `kzoo` command.

Every subcommand fails with one sentence on stderr and a non-zero exit code on bad
input; tracebacks are for bugs only. Heavy imports (TensorFlow) happen inside the
subcommands so `kzoo --help` answers at once.

Example:
```
kzoo --help
```
"""

import argparse
import sys

from kzoo import __version__


class UsageError(Exception):
    """A mistake in what the user asked for; printed as one sentence, exit code 2."""


def _table(rows, columns):
    """Plain-text table: one header line, then one line per row."""
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _list(args):
    if args.tasks:
        from kzoo.data import list_tasks

        rows = list_tasks()
        print(_table(rows, list(rows[0])))
        return 0
    from kzoo.presets import PRESETS  # Plain data: no TensorFlow needed to list.

    rows = [
        {"name": name, "family": p["family"], "parameters": f"{p['parameters']:,}", "description": p["description"]}
        for name, p in PRESETS.items()
    ]
    print(_table(rows, ["name", "family", "parameters", "description"]))
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="kzoo",
        description="Train Keras Transformers and ship them to TFLite and ONNX Runtime.",
    )
    parser.add_argument("--version", action="version", version=f"kzoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    listing = commands.add_parser("list", help="list the model presets (or, with --tasks, the bundled tasks)")
    listing.add_argument("--tasks", action="store_true", help="list the bundled datasets instead")
    listing.set_defaults(handler=_list)
    return parser


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"kzoo {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kzoo {args.command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
