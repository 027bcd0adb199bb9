"""Plugins from folders and from installed packages (entry points), registered per plugin."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrabot.loader import builtin_plugin_dir, load_plugins


@pytest.fixture
def installed_package(tmp_path: Path) -> Iterator[Path]:
    """A package installed the way pip leaves one: a module and its dist-info with entry points."""
    (tmp_path / "infrabot_extra_weather.py").write_text(
        textwrap.dedent(
            """
            from infrabot.plugin import command

            @command("weather", help="How is it out there?")
            def weather(ctx, args):
                return "sunny in iad1"
            """
        )
    )
    dist = tmp_path / "infrabot_extra_weather-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: infrabot-extra-weather\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text("[infrabot.plugins]\nweather = infrabot_extra_weather\n")
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("infrabot_extra_weather", None)


def test_entry_point_plugins_are_found(installed_package: Path) -> None:
    plugins = load_plugins([builtin_plugin_dir()], installed=True)
    assert plugins.commands["weather"].plugin == "weather"
    assert "owner" in plugins.commands


def test_commands_are_kept_per_plugin() -> None:
    plugins = load_plugins([builtin_plugin_dir()], installed=False)
    assert {s.name for s in plugins.plugins["team"]} == {"team", "who"}
    assert plugins.commands["owners"].name == "owner"


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    plugins = load_plugins([tmp_path / "nope"], installed=False)
    assert plugins.errors == (f"plugin folder {tmp_path / 'nope'} does not exist",)


def test_reimport_gives_fresh_code(tmp_path: Path) -> None:
    path = tmp_path / "greet.py"
    path.write_text(
        "from infrabot.plugin import command\n@command('greet')\ndef g(c, a):\n    return 'v1'\n"
    )
    first = load_plugins([tmp_path], installed=False).commands["greet"]
    path.write_text(
        "from infrabot.plugin import command\n@command('greet')\ndef g(c, a):\n    return 'v2'\n"
    )
    second = load_plugins([tmp_path], installed=False).commands["greet"]
    assert first.handler(None, "") == "v1"  # type: ignore[arg-type]
    assert second.handler(None, "") == "v2"  # type: ignore[arg-type]


def test_a_command_name_nobody_could_type_is_refused_when_the_plugin_loads(
    tmp_path: Path,
) -> None:
    """A name is one word after the prefix; any other could never be run, so the plugin's
    author is told at once instead of finding a command that never answers."""
    (tmp_path / "odd.py").write_text(
        "from infrabot.plugin import command\n"
        "@command('who.owns', aliases=['ok'])\ndef g(c, a):\n    return 'x'\n"
    )
    (tmp_path / "fine.py").write_text(
        "from infrabot.plugin import command\n"
        "@command('Who-Owns_2', aliases=['w2'])\ndef g(c, a):\n    return 'x'\n"
    )
    plugins = load_plugins([tmp_path], installed=False)
    assert "who.owns" not in plugins.commands and "ok" not in plugins.commands
    (error,) = plugins.errors
    assert error.startswith("plugin odd: ValueError: command name 'who.owns' is not one word")
    assert {"who-owns_2", "w2"} <= set(plugins.commands)
