"""Write `qa settings --markdown` into README.md between its settings markers.

    .venv/bin/python docs/readme_settings.py

tests/test_readme.py fails when the README's table and the settings differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.settings import settings_table  # noqa: E402

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def with_table(readme: str, table: str) -> str:
    """``readme`` with ``table`` between the markers (which must be there, in order)."""
    head, sep, rest = readme.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    return f"{head}{START}\n{table.rstrip()}\n{END}{tail}"


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(with_table(path.read_text("utf-8"), settings_table()), "utf-8")
    print(f"updated {path}")
