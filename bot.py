#!/usr/bin/env python3
"""Aftercare: the command line. `python bot.py --help` lists every command."""

from __future__ import annotations

import sys
from pathlib import Path

# Every command works from any working directory: the project's packages come
# from beside this file, while the default SQLite file lands in the cwd.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import click  # noqa: E402

from cli.escalations import escalations_command  # noqa: E402
from cli.importing import import_group  # noqa: E402
from cli.mix import mix_command  # noqa: E402
from cli.reports import nps_command  # noqa: E402
from cli.running import demo_command, run_command  # noqa: E402
from cli.scheduling import migrate_command, plan_command, tick_command  # noqa: E402

COMMANDS: dict[str, click.Command] = {
    "demo": demo_command,
    "run": run_command,
    "tick": tick_command,
    "plan": plan_command,
    "import": import_group,
    "nps": nps_command,
    "mix": mix_command,
    "escalations": escalations_command,
    "migrate": migrate_command,
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Aftercare keeps the sale going after the sale.

    It contacts every customer by name, in their language, on their channel,
    asks how likely they are to recommend you (0-10), and puts every unhappy
    customer in front of a rep fast. Configuration comes from environment
    variables (or a .env file); see the README.
    """


for _name, _command in COMMANDS.items():
    main.add_command(_command, _name)

if __name__ == "__main__":
    main()
