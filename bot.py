#!/usr/bin/env python3
"""Aftercare: the command line. `python bot.py --help` lists every command."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

# No garbage collection while the modules load: imports build hundreds of thousands of
# objects that live as long as the process, and collecting among them is a fifth of the
# start-up (four `tick` processes start at once). The command's module is loaded in
# get_command, which then freezes what is loaded and turns collection back on.
# (Only when run as a program: a test that imports this module keeps its collector.)
if __name__ == "__main__":
    gc.disable()

# Every command works from any working directory: the project's packages come
# from beside this file, while the default SQLite file lands in the cwd.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import importlib  # noqa: E402

import click  # noqa: E402

# Each command's module is imported only when it runs: `tick`, started by cron or
# four at a time, need not load the web framework.
COMMANDS: dict[str, str] = {
    "demo": "cli.running:demo_command",
    "run": "cli.running:run_command",
    "tick": "cli.scheduling:tick_command",
    "plan": "cli.scheduling:plan_command",
    "import": "cli.importing:import_group",
    "nps": "cli.reports:nps_command",
    "mix": "cli.mix:mix_command",
    "escalations": "cli.escalations:escalations_command",
    "migrate": "cli.scheduling:migrate_command",
    "user": "cli.users:user_group",
}


class Commands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        if not gc.isenabled():
            # What is loaded now stays for good: out of every later collection's sight.
            gc.freeze()
            # A youngest generation of 10,000 objects rather than 700: a batch of 500
            # surveys allocates tens of thousands of short-lived rows, dicts and bound
            # parameters, and at 700 the collector ran about 830 times and a full collection
            # six times in a 5,000-survey tick (8 % of its CPU); at 10,000, 22 and none.
            gc.set_threshold(10_000, *gc.get_threshold()[1:])
            gc.enable()
        return command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Aftercare keeps the sale going after the sale.

    It contacts every customer by name, in their language, on their channel,
    asks how likely they are to recommend you (0-10), and puts every unhappy
    customer in front of a rep fast. Configuration comes from environment
    variables (or a .env file); see the README.
    """


if __name__ == "__main__":
    main()
