"""The shape of the code stays what docs/ARCHITECTURE.md says it is.

import-linter (`make lint`) enforces the layers themselves; these tests keep the
picture in the docs equal to its contract, the modules small, each state defined
once, and the channel names inside the channel registry.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from messaging.channels import registry

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = PYPROJECT["tool"]["importlinter"]["root_packages"]
MAX_LINES = 400


def _layers() -> list[set[str]]:
    contract = next(
        c for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    )
    return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    ) + [ROOT / name for name in ("bot.py", "settings.py", "clock.py")]


def test_the_layer_picture_in_the_docs_is_the_lint_contract() -> None:
    picture = ARCHITECTURE.split("```", 2)[1]  # the first code block: the layers, top down
    named = [
        found
        for line in picture.splitlines()
        for found in re.findall(r"(?<![\w/])([a-z_]+)/", line[:26])
        if found in PACKAGES
    ]
    layer_of = {name: depth for depth, layer in enumerate(_layers()) for name in layer}
    assert set(named) == set(PACKAGES), "every root package is in the picture, and only those"
    depths = [layer_of[name] for name in named]
    assert depths == sorted(depths), f"the picture's order {named} is not the contract's"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split it by noun"


def _assigned_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names |= {t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()}
    return names


# Re-exports under the same name (`KINDS = values(CheckInKind)` in models) are one definition.
SHARED_ON_PURPOSE = {"__all__", "LANGUAGES", "KINDS", "STATUSES", "ROLES", "ENV_VARS"}


def test_each_constant_set_of_states_is_defined_once() -> None:
    where: dict[str, list[str]] = {}
    for path in _modules():
        for name in _assigned_names(path):
            where.setdefault(name, []).append(str(path.relative_to(ROOT)))
    twice = {
        name: paths
        for name, paths in where.items()
        if len(paths) > 1
        and name not in SHARED_ON_PURPOSE
        and any(word in name for word in ("PURPOSE", "KIND", "STATUS", "LANGUAGE", "CATEGOR"))
    }
    assert twice == {}


# The channel-specific code outside messaging/channels/: the Telegram runtime (updates in,
# deep-link linking) and the words customers use for a channel ("stop the sms").
CHANNEL_SPECIFIC = (
    "conversation/telegram_bot.py",
    "conversation/linking.py",
    "conversation/replies/",
)


@pytest.mark.parametrize("package", ["scheduler", "conversation", "escalation", "importing"])
def test_the_domain_never_names_a_channel(package: str) -> None:
    named = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative.startswith(CHANNEL_SPECIFIC):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in registry.CHANNELS:
                named.append(f"{relative}:{node.lineno} {node.value!r}")
    assert named == [], "ask messaging/channels/registry.py instead"
