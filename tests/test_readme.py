"""The README's settings table is the settings themselves."""

from __future__ import annotations

import importlib.util

from helpers import ROOT

from qa.settings import settings_table


def _readme_tool():
    spec = importlib.util.spec_from_file_location("readme_settings", ROOT / "docs" / "readme_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_settings_table_matches_the_settings():
    tool = _readme_tool()
    readme = (ROOT / "README.md").read_text("utf-8")
    assert tool.with_table(readme, settings_table()) == readme, (
        "README.md's settings table differs from the settings: run `.venv/bin/python docs/readme_settings.py`"
    )


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme.split("<!-- settings:start -->")[1].split("<!-- settings:end -->")[0]
    import dataclasses

    import qa

    for f in dataclasses.fields(qa.Settings):
        assert f"`QA_{f.name.upper()}`" in table
