"""`python -m kzoo.serve BUNDLE [options]`: the same as `kzoo serve`."""

import sys

from kzoo.serve.command import main

sys.exit(main())
