"""Hardening, items 2 and 3: logins that resist guessing, and sessions that end.

Before: 100 concurrent wrong passwords got 49 checked (limit 10) on up to 40
threads at 64 MiB each; rotating X-Forwarded-For was never throttled; a cookie
captured before logout kept working for 12 h.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from accounts import passwords
from clock import utcnow
from tests.test_admin import PASSWORD, csrf_of, log_in, make_app
from web.admin.session_cookie import COOKIE
from web.admin.sessions import end_sessions_of


class CountingHasher:
    """The real argon2 hasher, counting how many checks run and how many at once."""

    def __init__(self, real: Any) -> None:
        self.real, self.checks, self.running, self.most_at_once = real, 0, 0, 0
        self.lock = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        with self.lock:
            self.checks += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return bool(self.real.verify(stored, password))
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(
    monkeypatch: pytest.MonkeyPatch, real_password_hashing: PasswordHasher
) -> Iterator[CountingHasher]:
    # Production's cost: how many checks overlap depends on how long each one takes.
    counting = CountingHasher(real_password_hashing)
    monkeypatch.setattr(passwords, "hasher", counting)
    yield counting


@asynccontextmanager
async def browser(
    app: FastAPI, peer: str = "198.51.100.7", **headers: str
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


async def attempt(
    client: httpx.AsyncClient, user: str, password: str, **headers: str
) -> httpx.Response:
    form = await client.get("/admin/login", headers=headers)
    return await client.post(
        "/admin/login",
        data={"username": user, "password": password, "csrf_token": csrf_of(form.text)},
        headers=headers,
    )


def test_a_hundred_concurrent_guesses_get_few_checks_two_at_a_time(
    db: sessionmaker[Session], hasher: CountingHasher
) -> None:
    app = make_app(db)[0]

    async def storm() -> Counter[int]:
        async with browser(app) as client:
            form = await client.get("/admin/login")
            data = {"username": "admin", "password": "guess", "csrf_token": csrf_of(form.text)}
            answers = await asyncio.gather(
                *(client.post("/admin/login", data=data) for _ in range(100))
            )
        return Counter(answer.status_code for answer in answers)

    statuses = asyncio.run(storm())
    # Counted before checking: at most the account's 5 free attempts reach argon2.
    assert statuses[401] == hasher.checks <= 5
    assert statuses[429] + statuses[503] == 100 - statuses[401]
    assert hasher.most_at_once <= 2


def test_an_account_under_attack_from_many_addresses_slows_down_but_is_never_shut(
    db: sessionmaker[Session], hasher: CountingHasher
) -> None:
    app = make_app(db)[0]

    async def scenario() -> tuple[list[int], httpx.Response, httpx.Response]:
        codes = []
        for n in range(6):  # a botnet: each guess from another address
            async with browser(app, peer=f"203.0.113.{n}") as client:
                codes.append((await attempt(client, "admin", f"guess-{n}")).status_code)
        async with browser(app, peer="192.0.2.10") as owner:
            refused = await attempt(owner, "admin", PASSWORD)
            await asyncio.sleep(int(refused.headers["Retry-After"]))
            admitted = await attempt(owner, "admin", PASSWORD)
        return codes, refused, admitted

    codes, refused, admitted = asyncio.run(scenario())
    assert codes == [401] * 5 + [429]  # after 5 failures, each attempt must wait its turn
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 2
    assert admitted.status_code == 303  # the owner waits a second, not a lockout


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    db: sessionmaker[Session], hasher: CountingHasher
) -> None:
    direct = make_app(db)[0]
    behind_proxy = make_app(db, trusted_proxies="10.0.0.1")[0]

    async def scenario() -> dict[str, int]:
        async with browser(direct, peer="198.51.100.20") as client:
            for n in range(10):  # a new "client" every time, by header only
                fake = {"X-Forwarded-For": f"203.0.113.{n}"}
                assert (await attempt(client, f"user-{n}", "guess", **fake)).status_code == 401
            rotated = await attempt(client, "user-x", "guess", **{"X-Forwarded-For": "192.0.2.1"})
        async with browser(behind_proxy, peer="10.0.0.1") as proxy:
            for n in range(10):  # one real client behind the proxy guesses
                guess = await attempt(
                    proxy, f"user-{n}", "guess", **{"X-Forwarded-For": "192.0.2.66"}
                )
                assert guess.status_code == 401
            guesser = await attempt(proxy, "admin", PASSWORD, **{"X-Forwarded-For": "192.0.2.66"})
            colleague = await attempt(proxy, "admin", PASSWORD, **{"X-Forwarded-For": "192.0.2.77"})
        return {
            "rotated": rotated.status_code,
            "guesser": guesser.status_code,
            "colleague": colleague.status_code,
        }

    assert asyncio.run(scenario()) == {
        "rotated": 429,  # the header changed nothing: the peer is the client
        "guesser": 429,  # behind the trusted proxy, the guesser is the client it names...
        "colleague": 303,  # ...and the admin behind the same proxy is not locked out
    }


def test_every_process_shares_one_count(db: sessionmaker[Session], hasher: CountingHasher) -> None:
    first, second = make_app(db)[0], make_app(db)[0]  # two `run` processes on one database

    async def scenario() -> int:
        for n in range(10):
            async with browser(first if n % 2 else second) as client:
                assert (await attempt(client, f"user-{n}", "guess")).status_code == 401
        async with browser(first) as client:
            return (await attempt(client, "admin", PASSWORD)).status_code

    assert asyncio.run(scenario()) == 429


# ---------------------------------------------------------------- sessions that end


@pytest.fixture
def app(db: sessionmaker[Session]) -> FastAPI:
    return make_app(db)[0]


def logged_in(app: FastAPI) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert log_in(client).status_code == 303
    return client


def test_a_cookie_captured_before_logout_is_worth_nothing_after(app: FastAPI) -> None:
    with logged_in(app) as browser_tab:
        captured = browser_tab.cookies[COOKIE]
        page = browser_tab.get("/admin/settings")
        assert page.status_code == 200
        assert (
            browser_tab.post("/admin/logout", data={"csrf_token": csrf_of(page.text)}).status_code
            == 303
        )
    with TestClient(app, follow_redirects=False, cookies={COOKIE: captured}) as thief:
        answer = thief.get("/admin/settings")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")


def test_ending_a_users_sessions_logs_out_every_browser(app: FastAPI, session: Session) -> None:
    with logged_in(app) as laptop, logged_in(app) as phone:
        assert laptop.get("/admin/").status_code == 200 and phone.get("/admin/").status_code == 200
        assert end_sessions_of(session, "admin", utcnow()) == 2  # e.g. on a password change
        session.commit()
        assert laptop.get("/admin/").status_code == 303
        assert phone.get("/admin/").status_code == 303
