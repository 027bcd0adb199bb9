"""Logging: no secret reaches any handler at any level; libraries speak only when asked."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from infrabot.config import Config, IrcConfig, MatrixConfig, SmtpConfig
from infrabot.logs import LogSetup, setup_logging
from infrabot.redact import Redactor

SASL_PASSWORD = "sasl-pw-Zq8!x"
SERVER_PASSWORD = "server pw/with&odd=chars"
NICKSERV_PASSWORD = "ns-pw-7yT"
CHANNEL_KEY = "chan-key-42"
MATRIX_PASSWORD = "matrix-pw-Lq3"
CONFIGURED_TOKEN = "syt_Y29uZmln_ConfiguredTokenAbc_1x2y3z"
LOGIN_TOKEN = "syt_Ym90_FromPasswordLoginXyz_0a1b2c"  # never in the config: nio got it
SMTP_PASSWORD = "smtp-pw-9Kd"
SECRETS = (
    SASL_PASSWORD,
    SERVER_PASSWORD,
    NICKSERV_PASSWORD,
    CHANNEL_KEY,
    MATRIX_PASSWORD,
    CONFIGURED_TOKEN,
    LOGIN_TOKEN,
    SMTP_PASSWORD,
)


def _config(**overrides: Any) -> Config:
    return Config(
        irc=IrcConfig(
            sasl_username="infrabot",
            sasl_password=SASL_PASSWORD,
            server_password=SERVER_PASSWORD,
            nickserv_password=NICKSERV_PASSWORD,
            channel_keys={"#secret": CHANNEL_KEY},
        ),
        matrix=MatrixConfig(password=MATRIX_PASSWORD, access_token=CONFIGURED_TOKEN),
        paging={"smtp": SmtpConfig(username="bot", password=SMTP_PASSWORD)},
        log_level="DEBUG",
        **overrides,
    )


def _payload(user: str, password: str) -> str:
    return base64.b64encode(f"{user}\0{user}\0{password}".encode()).decode()


@pytest.fixture
def logged() -> Iterator[tuple[LogSetup, io.StringIO]]:
    """The bot's logging at DEBUG with libraries on, written to a buffer."""
    stream = io.StringIO()
    setup = setup_logging(_config(), libraries=True, stream=stream)
    try:
        yield setup, stream
    finally:
        setup.close()


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
        assert _payload("infrabot", SASL_PASSWORD) not in text


def test_irc_library_lines_are_redacted(
    logged: tuple[LogSetup, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    _, stream = logged
    irc = logging.getLogger("irc.client")
    for line in (
        f"PASS :{SERVER_PASSWORD}",
        "AUTHENTICATE PLAIN",
        f"AUTHENTICATE {_payload('infrabot', SASL_PASSWORD)}",
        f"PRIVMSG NickServ :IDENTIFY infrabot {NICKSERV_PASSWORD}",
        f"JOIN #secret {CHANNEL_KEY}",
    ):
        irc.debug("TO SERVER: %s", line)
    logging.getLogger("irc.client_aio").debug("FROM SERVER: AUTHENTICATE +")
    _assert_clean(stream.getvalue(), caplog.text)
    written = stream.getvalue()
    assert "TO SERVER: PASS ***" in written
    assert "TO SERVER: AUTHENTICATE PLAIN" in written  # the mechanism is no secret
    assert "TO SERVER: AUTHENTICATE ***" in written
    assert "TO SERVER: PRIVMSG NickServ :IDENTIFY ***" in written
    assert "FROM SERVER: AUTHENTICATE +" in written
    assert "TO SERVER: AUTHENTICATE ***" in caplog.text  # pytest's own handler: redacted too


def test_a_long_sasl_payload_split_by_400_is_redacted_piece_by_piece() -> None:
    password = "p" * 500
    redactor = Redactor()
    redactor.add_login("infrabot", password)
    payload = _payload("infrabot", password)
    pieces = [payload[i : i + 400] for i in range(0, len(payload), 400)]
    for piece in pieces:
        assert piece not in redactor.redact(f"TO SERVER: AUTHENTICATE {piece}")
    # and without knowing the password, the AUTHENTICATE pattern alone hides every piece
    for piece in pieces:
        assert Redactor().redact(f"AUTHENTICATE {piece}") == "AUTHENTICATE ***"


def test_nio_records_are_redacted(
    logged: tuple[LogSetup, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    _, stream = logged
    # what nio logs at DEBUG after a password login: the response, token and all
    login = {"user_id": "@bot:localhost", "access_token": LOGIN_TOKEN, "device_id": "DEV"}
    logging.getLogger("nio.responses").debug("Validating response schema %r: %s", {}, login)
    logging.getLogger("nio.client.async_client").debug(
        "sending %s", '{"type": "m.login.password", "password": "' + MATRIX_PASSWORD + '"}'
    )
    logging.getLogger("aiohttp.client").debug(
        "GET /_matrix/client/v3/sync?access_token=%s&since=s1 headers=%s",
        CONFIGURED_TOKEN,
        {"Authorization": f"Bearer {LOGIN_TOKEN}"},
    )
    _assert_clean(stream.getvalue(), caplog.text)
    written = stream.getvalue()
    assert "Validating response schema {}: {'user_id': '@bot:localhost'" in written
    assert "'access_token': '***'" in written
    assert "access_token=***&since=s1" in written
    assert "'Authorization': 'Bearer ***'" in written


def test_secrets_in_their_encodings_are_redacted(logged: tuple[LogSetup, io.StringIO]) -> None:
    _, stream = logged
    log = logging.getLogger("infrabot.test")
    from urllib.parse import quote, quote_plus

    log.info("url-encoded %s and %s", quote(SERVER_PASSWORD, safe=""), quote_plus(SERVER_PASSWORD))
    log.info("repr %r, bytes %r", [SMTP_PASSWORD], SMTP_PASSWORD.encode())
    log.info("basic %s", base64.b64encode(f"bot:{SMTP_PASSWORD}".encode()).decode())
    written = stream.getvalue()
    assert quote(SERVER_PASSWORD, safe="") not in written
    assert quote_plus(SERVER_PASSWORD) not in written
    assert base64.b64encode(f"bot:{SMTP_PASSWORD}".encode()).decode() not in written
    _assert_clean(written)


def test_tracebacks_and_stacks_are_redacted(
    logged: tuple[LogSetup, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    _, stream = logged
    log = logging.getLogger("infrabot.test")
    try:
        raise RuntimeError(f"login refused for password {MATRIX_PASSWORD}")
    except RuntimeError:
        log.exception("failed with %s", SASL_PASSWORD)
    log.warning("here %s", NICKSERV_PASSWORD, stack_info=True)
    written = stream.getvalue()
    assert "RuntimeError: login refused for password ***" in written
    assert "Traceback (most recent call last)" in written
    _assert_clean(written, caplog.text)
    # the exception object (which holds the raw values) is not passed on to any handler
    assert all(record.exc_info is None for record in caplog.records)


def test_a_handler_added_later_sees_only_redacted_records(
    logged: tuple[LogSetup, io.StringIO],
) -> None:
    late = io.StringIO()
    handler = logging.StreamHandler(late)
    logging.getLogger().addHandler(handler)
    try:
        logging.getLogger("infrabot.test").error("token %s", CONFIGURED_TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    assert late.getvalue() == "token ***\n"


def test_uncaught_exceptions_are_logged_redacted(logged: tuple[LogSetup, io.StringIO]) -> None:
    _, stream = logged
    try:
        raise ValueError(f"bad {SASL_PASSWORD}")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    written = stream.getvalue()
    assert "CRITICAL infrabot: uncaught exception" in written
    assert "ValueError: bad ***" in written
    _assert_clean(written)


def test_a_record_with_bad_arguments_is_still_redacted(
    logged: tuple[LogSetup, io.StringIO],
) -> None:
    _, stream = logged
    logging.getLogger("infrabot.test").info("%d things", SASL_PASSWORD)
    assert "%d things (arguments: ('***',))" in stream.getvalue()


@pytest.mark.parametrize("libraries", [False, True])
def test_libraries_log_below_warning_only_on_request(libraries: bool) -> None:
    stream = io.StringIO()
    setup = setup_logging(_config(log_libraries=libraries), stream=stream)
    try:
        for name in ("irc.client", "jaraco.stream", "nio.responses", "aiohttp.client", "asyncio"):
            logging.getLogger(name).debug("%s debug", name)
            logging.getLogger(name).warning("%s warning", name)
        logging.getLogger("infrabot.app").debug("own debug")
        logging.getLogger("infrabot_plugins.owner").debug("plugin debug")
    finally:
        setup.close()
    written = stream.getvalue()
    assert "own debug" in written
    assert "plugin debug" in written
    for name in ("irc.client", "jaraco.stream", "nio.responses", "aiohttp.client", "asyncio"):
        assert f"{name} warning" in written
        assert (f"{name} debug" in written) is libraries


def test_quiet_commands_log_warnings_only() -> None:
    stream = io.StringIO()
    setup = setup_logging(_config(log_libraries=True), quiet=True, stream=stream)
    try:
        logging.getLogger("infrabot.app").info("own info")
        logging.getLogger("irc.client").info("library info")
        logging.getLogger("infrabot.app").warning("own warning")
    finally:
        setup.close()
    assert stream.getvalue().splitlines()[-1].endswith("own warning")
    assert "info" not in stream.getvalue()


def test_close_puts_logging_back() -> None:
    factory, hook = logging.getLogRecordFactory(), sys.excepthook
    root_level, own_level = logging.getLogger().level, logging.getLogger("infrabot").level
    handlers = list(logging.getLogger().handlers)
    setup_logging(_config(), stream=io.StringIO()).close()
    assert logging.getLogRecordFactory() is factory
    assert sys.excepthook is hook
    assert logging.getLogger().level == root_level
    assert logging.getLogger("infrabot").level == own_level
    assert logging.getLogger().handlers == handlers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PASS hunter2", "PASS ***"),
        ("OPER admin hunter2", "OPER admin ***"),
        ("NS identify hunter2", "NS identify ***"),
        ('{"access_token": "abc\\"def", "x": 1}', '{"access_token": "***", "x": 1}'),
        ("refresh_token=abc&next=1", "refresh_token=***&next=1"),
        ("Authorization: Basic dXNlcjpwdw==", "Authorization: Basic ***"),
        ("https://bot:hunter2@hooks.example.org/x", "https://bot:***@hooks.example.org/x"),
        ("refresh syr_abc_def_123 now", "refresh *** now"),
        ("AUTHENTICATE EXTERNAL", "AUTHENTICATE EXTERNAL"),
        ("AUTHENTICATE *", "AUTHENTICATE *"),
        ("joined #python-infra", "joined #python-infra"),
    ],
)
def test_patterns_hide_credentials_the_bot_was_never_given(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


def test_a_secret_inside_a_longer_one_is_hidden_whole() -> None:
    redactor = Redactor(["abc", "abcdef"])
    assert redactor.redact("x abcdef y abc") == "x *** y ***"


@pytest.fixture
def json_logged() -> Iterator[io.StringIO]:
    """The bot's logging at DEBUG in JSON lines, libraries on, written to a buffer."""
    stream = io.StringIO()
    setup = setup_logging(_config(log_format="json"), libraries=True, stream=stream)
    try:
        yield stream
    finally:
        setup.close()


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_the_event_fields(
    json_logged: io.StringIO,
) -> None:
    event = {
        "network": "irc",
        "room": "#python-infra",
        "command": "owner",
        "duration": 0.0012345678,
    }
    logging.getLogger("infrabot.router").info("answered %s", "!owner pypi", extra=event)
    logging.getLogger("infrabot.paging").warning("page escalated", extra={"page_id": "P-7"})
    first, second = _json_lines(json_logged)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.pop("time"))
    assert first == {
        "level": "INFO",
        "logger": "infrabot.router",
        "message": "answered !owner pypi",
        "network": "irc",
        "room": "#python-infra",
        "command": "owner",
        "duration": 0.001235,
    }
    assert second["page_id"] == "P-7" and second["level"] == "WARNING"
    assert "network" not in second  # only the fields the event has


def test_json_lines_hide_secrets_in_fields_tracebacks_and_library_lines(
    json_logged: io.StringIO,
) -> None:
    log = logging.getLogger("infrabot.test")
    log.info("field", extra={"room": f"#x {CHANNEL_KEY}", "command": SMTP_PASSWORD})
    try:
        raise RuntimeError(f'bad "{SERVER_PASSWORD}"\nsecond line {MATRIX_PASSWORD}')
    except RuntimeError:
        log.exception("failed with %s", SASL_PASSWORD)
    logging.getLogger("irc.client").debug(
        "TO SERVER: AUTHENTICATE %s", _payload("infrabot", SASL_PASSWORD)
    )
    logging.getLogger("nio.responses").debug("login %s", {"access_token": LOGIN_TOKEN})
    lines = _json_lines(json_logged)
    assert len(lines) == 4  # a traceback stays inside its one line
    assert lines[0]["room"] == "#x ***" and lines[0]["command"] == "***"
    assert "RuntimeError: bad" in lines[1]["exception"]
    assert lines[2]["message"] == "TO SERVER: AUTHENTICATE ***"
    _assert_clean(json_logged.getvalue())


def test_log_format_must_be_text_or_json() -> None:
    assert Config().log_format == "text"
    assert Config(log_format="json").log_format == "json"
    with pytest.raises(ValueError, match="'text' or 'json'"):
        Config(log_format="xml")  # type: ignore[arg-type]
