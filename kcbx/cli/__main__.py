"""`python -m kcbx.cli`, as the `kcbx` script."""

import sys

from kcbx.cli.main import main

sys.exit(main())
