"""`python -m scheduler`: the `rota` command."""

import sys

from scheduler.cli import main

sys.exit(main())
