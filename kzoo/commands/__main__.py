"""`python -m kzoo.commands ...`: the same as `kzoo ...`."""

import sys

from kzoo.commands.main import main

sys.exit(main())
