"""`python -m scheduler`: the `rota` command."""

import sys

from scheduler.cli import command

sys.exit(command())
