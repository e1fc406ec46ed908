"""Passwords are hashed with argon2id at the library's defaults (RFC 9106, low memory).

The suite hashes with argon2's test profile inside its own process (conftest.py);
these tests prove production does not: a fresh process, as `bot.py` would be.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from argon2 import PasswordHasher

from accounts import passwords

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "$argon2id$v=19$m=65536,t=3,p=4$"


def test_a_process_of_its_own_hashes_with_64_mib_and_three_passes() -> None:
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from accounts.passwords import hash_password, matches\n"
            "h = hash_password('correct horse battery')\n"
            "assert matches(h, 'correct horse battery') and not matches(h, 'wrong horse battery')\n"
            "print(h)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert made.stdout.startswith(PRODUCTION)


def test_an_unknown_user_costs_a_check_at_production_parameters(
    real_password_hashing: PasswordHasher,
) -> None:
    assert passwords.hash_password("correct horse battery").startswith(PRODUCTION)
    passwords.burn_time("any guess at all")
    assert passwords._dummy_hash().startswith(PRODUCTION)


def test_a_hash_made_cheaply_still_checks_under_production_parameters() -> None:
    # A hash carries its own parameters: users created by the suite's quick hasher log in
    # through a production process, and a production hash through the suite's.
    quick = passwords.hash_password("correct horse battery")
    assert quick.startswith("$argon2id$") and not quick.startswith(PRODUCTION)
    assert PasswordHasher().verify(quick, "correct horse battery")
    real = PasswordHasher().hash("correct horse battery")
    assert passwords.matches(real, "correct horse battery")
