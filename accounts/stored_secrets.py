"""Keys generated once and kept in the database, so that every process uses the same one.

Without AFTERCARE_SESSION_SECRET the session cookie's signing key used to be
random per process: a second `run` behind a load balancer, or a restart, logged
everyone out. The first process to need the key makes it; the others read it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from models import StoredSecret

KEY_BYTES = 32


def stored_key(factory: sessionmaker[Session], name: str) -> bytes:
    """The key called `name`, made now if no process has made it yet.

    Two processes starting at once both try to insert; ON CONFLICT DO NOTHING lets
    the first one win (PostgreSQL makes the second wait for the first to commit),
    and both then read the winner's key.
    """
    with factory.begin() as session:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        session.execute(
            insert(StoredSecret)
            .values(name=name, value=secrets.token_bytes(KEY_BYTES))
            .on_conflict_do_nothing()
        )
        return session.scalars(select(StoredSecret.value).where(StoredSecret.name == name)).one()
