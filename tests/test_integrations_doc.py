"""docs/INTEGRATIONS.md: the signature verifiers it shows (Python and Node.js) accept a real
signed event from Aftercare and refuse a tampered one."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from events.signing import header

DOC = Path(__file__).resolve().parent.parent / "docs" / "INTEGRATIONS.md"
SECRET = "whsec_doc_test"


def block(language: str, containing: str) -> str:
    for code in re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        if containing in code:
            return str(code)
    raise AssertionError(f"no {language} block with {containing!r} in {DOC.name}")


def signed() -> tuple[str, bytes]:
    body = json.dumps({"id": "evt_1", "type": "customer.opted_out", "data": {"é": 1}}).encode()
    return header(SECRET, int(time.time()), body), body


def test_the_documented_sections_are_there() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "## Event webhooks" in text and "## Worked example" in text
    assert "POST /api/purchases/" in text or "/api/purchases/order-1001/delivered" in text


def test_the_python_verifier_in_the_docs_works() -> None:
    namespace: dict[str, Any] = {}
    exec(block("python", "def verify_aftercare"), namespace)  # noqa: S102 - our own doc
    verify = namespace["verify_aftercare"]
    value, body = signed()

    assert verify(SECRET, value, body)
    assert not verify(SECRET, value, body + b" ")
    assert not verify("another", value, body)
    assert not verify(SECRET, "", body)
    assert not verify(SECRET, value.replace("t=", "t=1"), body)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_javascript_verifier_in_the_docs_works(tmp_path: Path) -> None:
    script = tmp_path / "verify.js"
    script.write_text(
        block("javascript", "function verifyAftercare")
        + """
const [secret, header, body] = process.argv.slice(2);
const raw = Buffer.from(body, "base64");
console.log(JSON.stringify([
  verifyAftercare(secret, header, raw),
  verifyAftercare(secret, header, Buffer.concat([raw, Buffer.from(" ")])),
  verifyAftercare("another", header, raw),
]));
""",
        encoding="utf-8",
    )
    value, body = signed()
    result = subprocess.run(
        ["node", str(script), SECRET, value, base64.b64encode(body).decode()],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout) == [True, False, False]
