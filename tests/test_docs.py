"""The docs stay honest: every command is documented and helps; every variable is in the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import bot
from settings import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize(
    ("name", "command"), _commands(bot.main), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_is_in_the_readme_and_has_help(name: str, command: click.Command) -> None:
    top = name.split()[0]
    assert f"python bot.py {top}" in README, f"README does not mention `python bot.py {top}`"
    result = CliRunner().invoke(bot.main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert (command.help or "").strip(), f"`{name}` has no help text"
    assert "Usage:" in result.output


@pytest.mark.parametrize("variable", ENV_VARS)
def test_every_environment_variable_is_in_the_configuration_table(variable: str) -> None:
    assert f"| `{variable}` |" in README


def test_the_cli_works_from_any_working_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "migrate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "aftercare.sqlite3").exists()


def test_the_readme_gives_exactly_two_commands_for_a_fresh_machine() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick_start.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readmes_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script
