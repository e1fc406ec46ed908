"""`bot.py import KIND --help` lists exactly the columns the importer takes (its COLUMNS).

It used to be a copy in the docstrings and fell behind: customers' help had no `email`
column and no `email` channel, reps' no `working_hours`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot
from importing import KINDS
from messaging.channels.registry import CHANNELS


def _help(kind: str) -> str:
    result = CliRunner().invoke(bot.main, ["import", kind, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def _header_block(text: str) -> str:
    """The help's column list: the paragraph after the first one, lines joined."""
    paragraphs = [part for part in text.split("\n\n") if part.strip()]
    return "".join(line.strip() for line in paragraphs[2].splitlines())


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_help_lists_exactly_the_importers_columns(kind: str) -> None:
    assert _header_block(_help(kind)) == ",".join(KINDS[kind].COLUMNS.all)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_help_names_the_required_columns(kind: str) -> None:
    text = " ".join(_help(kind).split())
    *first, last = KINDS[kind].COLUMNS.required
    assert f"{', '.join(first)} and {last} are required" in text


def test_customers_help_names_email_and_every_channel() -> None:
    text = _help("customers")
    assert "email" in _header_block(text).split(",")
    flat = " ".join(text.split())
    for channel in CHANNELS:
        assert f"{channel} (" in flat, channel
    assert "email (needs an email)" in flat


def test_reps_help_names_email_and_working_hours() -> None:
    columns = _header_block(_help("reps")).split(",")
    assert {"email", "language", "working_hours"} <= set(columns)
    assert "Mon-Fri 09:00-18:00" in " ".join(_help("reps").split())


def test_bot_py_prints_the_same_help(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(Path(bot.__file__).resolve()), "import", "customers", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _header_block(done.stdout) == ",".join(KINDS["customers"].COLUMNS.all)
    assert list(tmp_path.iterdir()) == []  # help opens no database
