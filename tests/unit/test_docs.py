"""The README documents every setting with its real default, and the commands that exist."""

import re
from pathlib import Path

from core.cli import _parser
from core.config import describe_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented_with_its_default() -> None:
    for env, default, _ in describe_settings():
        row = re.search(rf"^\| `{env}` \| ([^|]+) \|", README, re.MULTILINE)
        assert row, f"{env} is missing from the README's configuration table"
        shown = row.group(1).strip()
        assert shown == (f"`{default}`" if default else "unset"), env


def test_every_command_is_documented() -> None:
    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"| `{name}" in README, f"command {name} is missing from the README"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.splitlines()[:6]
    assert any(line.startswith("scripts/dev ") for line in head)
    assert any(line.startswith("scripts/test ") for line in head)
