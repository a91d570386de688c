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


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="kzoo",
        description="Train Keras Transformers and ship them to TFLite and ONNX Runtime.",
    )
    parser.add_argument("--version", action="version", version=f"kzoo {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
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
