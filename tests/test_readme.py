"""The README's promises that a test can hold it to."""

import re
from pathlib import Path

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def test_quick_start_has_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("rota serve") and commands[1] == "./scripts/test"
    assert "pytest" in (REPO / "scripts" / "test").read_text()


def test_ci_runs_the_readme_test_command_and_nothing_else():
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#") and not re.match(r"(set|cd) ", line)]
    assert ci == [quick_start_commands()[1]]


def test_every_command_in_the_cli_is_documented():
    from scheduler.cli import parser

    commands = parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"`rota {name}" in README, name
