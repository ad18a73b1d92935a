"""`python -m chainrule` is the `chainrule` command."""

import sys

from .cli.main import main

sys.exit(main())
