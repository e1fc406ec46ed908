"""`bot.py user`: the people who log in to the admin UI (add, list, disable, set a password).

Passwords never appear on the command line (where `ps` and the shell history
would keep them): `--password-stdin` reads one line from standard input, as
`docker login` does; without it the command asks for it, twice, without echo.
"""

from __future__ import annotations

import getpass
import sys

import click

from accounts.users import UserError, add_user, disable_user, list_users, set_password
from cli.common import database, load_settings
from clock import utcnow
from models.states import Role


def _actor() -> str:
    try:
        return f"command line ({getpass.getuser()})"
    except (KeyError, OSError):  # no login name in some containers
        return "command line"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise click.ClickException("no password on standard input")
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (one line) instead of asking for it.",
)


@click.group("user")
def user_group() -> None:
    """Users of the admin UI: admins, managers and reps, each with their own password."""


@user_group.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([role.value for role in (Role.ADMIN, Role.MANAGER, Role.REP)]),
    required=True,
    help="admin: everything; manager: their team's customers; rep: their own.",
)
@click.option("--rep", "rep_external_id", help="The rep (external id) a manager or rep user is.")
@password_stdin
def add_command(
    username: str, role: str, rep_external_id: str | None, password_stdin: bool
) -> None:
    """Add a user who can log in to the admin UI.

    Managers and reps must name their rep: a rep sees their own customers and
    escalations, a manager the team of reps whose manager they are.
    """
    factory = database(load_settings())
    password = _password(password_stdin)
    try:
        with factory.begin() as session:
            user = add_user(
                session, utcnow(), username, role, password,
                rep_external_id=rep_external_id, actor=_actor(),
            )  # fmt: skip
            name = user.username
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added {role} {name}.")


@user_group.command("list")
def list_command() -> None:
    """List the users: name, role, rep, and whether they may log in."""
    factory = database(load_settings())
    with factory() as session:
        rows = list_users(session)
    if not rows:
        click.echo("No users yet (AFTERCARE_ADMIN_PASSWORD logs in as admin).")
        return
    click.echo(f"{'user':<24} {'role':<8} {'rep':<20} state")
    for row in rows:
        state = (
            "enabled"
            if row.user.disabled_at is None
            else f"disabled {row.user.disabled_at:%Y-%m-%d}"
        )
        click.echo(
            f"{row.user.username:<24} {row.user.role:<8} {row.rep_external_id or '-':<20} {state}"
        )


@user_group.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable a user: they can no longer log in, and their sessions end at once."""
    factory = database(load_settings())
    try:
        with factory.begin() as session:
            user = disable_user(session, utcnow(), username, actor=_actor())
            name = user.username
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Disabled {name}.")


@user_group.command("set-password")
@click.argument("username")
@password_stdin
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a user's password; the sessions made with the old one end."""
    factory = database(load_settings())
    password = _password(password_stdin)
    try:
        with factory.begin() as session:
            user = set_password(session, utcnow(), username, password, actor=_actor())
            name = user.username
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Password set for {name}.")
