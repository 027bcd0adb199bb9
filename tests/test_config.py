"""Configuration errors name the file and the line, and never repeat a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrabot.cli import main
from infrabot.config import load_config
from infrabot.errors import ConfigError

SECRET = "hunter2-Secret"


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # an unterminated quote: the error is found at the end, the quote opened on line 3
        (f'irc:\n  nick: bot\n  sasl_password: "{SECRET}\n  port: 6667\n', "line 3"),
        (f"irc:\n  nick: bot\n  sasl_password: {SECRET}: more\n", "bot.yaml:3:"),
        (f"irc:\n  nick: bot\n  sasl_password: [{SECRET}\n", "line 3"),
        (f"irc:\n  nick: bot\n  sasl_password: !{SECRET} x\n", "bot.yaml:3:"),
        (f'irc:\n  nick: bot\n  sasl_password: "{SECRET}\\q"\n', "bot.yaml:3:"),
        (f'irc: {{nick: bot, sasl_password: "{SECRET}"}}}}\n', "bot.yaml:1:"),
    ],
)
def test_a_yaml_syntax_error_names_file_and_line_not_the_secret(
    tmp_path: Path, text: str, line: str
) -> None:
    message = _error(tmp_path, text)
    assert str(tmp_path / "bot.yaml") in message
    assert line in message
    assert SECRET not in message
    assert "sasl_password" not in message  # the quoted line is not shown at all
    assert "\n" not in message


def test_the_command_prints_one_line_without_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(f'irc:\n  nick: bot\n  sasl_password: "{SECRET}\n')
    assert main(["--config", str(path), "run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"infrabot: {path}:4:1: found unexpected end of stream")
    assert SECRET not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "text",
    [
        f"irc:\n  sasl_password: [{SECRET}]\n",
        f"irc:\n  sasl_password: {{nested: {SECRET}}}\n",
        f"irc:\n  channel_keys: {{'#x': [{SECRET}]}}\n",
        f"matrix:\n  access_token: [{SECRET}]\n  rooms: nope\n",
    ],
)
def test_a_validation_error_never_repeats_a_secret(tmp_path: Path, text: str) -> None:
    message = _error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'bot.yaml'}: ")
    assert SECRET not in message


def test_a_bad_environment_variable_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRABOT_IRC__CHANNEL_KEYS", '{"#infra": "' + SECRET)
    with pytest.raises(ConfigError) as caught:
        load_config(None)
    assert str(caught.value) == (
        'configuration: error parsing value for field "irc" from source "EnvSettingsSource"'
    )


def test_log_keys(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("log_level: debug\nlog_libraries: true\n")
    config = load_config(path)
    assert (config.log_level, config.log_libraries) == ("DEBUG", True)
    assert load_config(None).log_libraries is False
    path.write_text("log_level: loud\n")
    with pytest.raises(ConfigError, match="log_level: Value error, must be one of DEBUG, INFO"):
        load_config(path)
