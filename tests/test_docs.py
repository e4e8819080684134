"""The README cannot drift from the CLI (as in sqlite-utils' tests/test_docs.py).

Every command of the `loa` group must be shown in README.md as `loa <name>`, and every
command's --help must teach by example.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = sorted(main.commands)


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def test_the_cli_has_commands():
    assert COMMANDS, "the loa group has no commands"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented_in_readme(readme, name):
    assert re.search(rf"\bloa {re.escape(name)}\b", readme), f"README.md never shows `loa {name}`"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_has_an_example(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`loa {name} --help` has no Example block"


def test_group_help_has_an_example():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
