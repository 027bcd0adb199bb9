"""The bot's configuration: a YAML file, with secrets also taken from environment variables.

Any key can be set from the environment as ``INFRABOT_<KEY>``, nested keys joined by ``__``:
``INFRABOT_IRC__SASL_PASSWORD``, ``INFRABOT_MATRIX__ACCESS_TOKEN``. Values in the file win
over the environment, except that a secret left out of the file is taken from it. Relative
paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from infrabot.errors import ConfigError
from infrabot.redact import Redactor, secret_key

__all__ = [
    "AdminsConfig",
    "Config",
    "GitInventory",
    "IrcConfig",
    "MatrixConfig",
    "PagingConfig",
    "RoomRef",
    "SmtpConfig",
    "WebConfig",
    "WebhookConfig",
    "default_inventory_path",
    "load_config",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdminsConfig(_Section):
    """Admins by authenticated identity on each network; nicks and display names never count."""

    irc: list[str] = Field(default_factory=list, description="IRC services account names")
    matrix: list[str] = Field(default_factory=list, description="Matrix user IDs")


SaslMechanismName = Literal["PLAIN", "EXTERNAL", "SCRAM-SHA-256", "ECDSA-NIST256P-CHALLENGE"]
"""The SASL mechanisms the IRC transport speaks (:mod:`infrabot.transports.irc_sasl`)."""


class IrcConfig(_Section):
    """How to reach the IRC network, who the bot is there, and how fast it may talk."""

    host: str = Field(default="127.0.0.1", description="Server host name or address")
    port: int = Field(default=6667, description="Server port (6697 is usual for TLS)")
    tls: bool = Field(default=False, description="Connect with TLS")
    tls_verify: bool = Field(default=True, description="Verify the server's certificate")
    tls_ca_file: Path | None = Field(
        default=None, description="CA bundle (or a self-signed certificate) to trust"
    )
    server_password: SecretStr | None = Field(default=None, description="Sent as PASS")
    nick: str = Field(default="infrabot", description="The nick the bot wants")
    alt_nicks: list[str] = Field(
        default_factory=list, description="Tried in order when the nick is taken"
    )
    username: str | None = Field(default=None, description="USER name; the nick when unset")
    realname: str = "infrabot"
    sasl_username: str | None = Field(
        default=None, description="Services account (PLAIN, SCRAM; ECDSA: the nick when unset)"
    )
    sasl_password: SecretStr | None = Field(default=None, description="For PLAIN and SCRAM")
    sasl_mechanism: SaslMechanismName | None = Field(
        default=None,
        description="PLAIN, EXTERNAL, SCRAM-SHA-256 or ECDSA-NIST256P-CHALLENGE; unset: "
        "EXTERNAL with a client certificate, ECDSA with a key, PLAIN with a password",
    )
    sasl_required: bool = Field(
        default=False, description="Disconnect and retry later when the SASL login fails"
    )
    sasl_ecdsa_key: Path | None = Field(
        default=None, description="PEM private key (NIST P-256) for ECDSA-NIST256P-CHALLENGE"
    )
    sasl_ecdsa_key_password: SecretStr | None = Field(
        default=None, description="Passphrase of sasl_ecdsa_key, if it has one"
    )
    tls_client_cert: Path | None = Field(
        default=None, description="PEM client certificate shown to the server (for EXTERNAL)"
    )
    tls_client_key: Path | None = Field(
        default=None, description="PEM key of tls_client_cert; unset: inside the cert file"
    )
    tls_client_key_password: SecretStr | None = Field(
        default=None, description="Passphrase of tls_client_key, if it has one"
    )
    tls_fingerprint: list[str] = Field(
        default_factory=list,
        description="SHA-256 of the server certificate (hex, colons optional; a list during "
        "a rotation): when set, only it is trusted, and host name and CA are not checked",
    )
    nickserv_password: SecretStr | None = Field(
        default=None, description="IDENTIFY to NickServ when SASL is not used or failed"
    )
    channels: list[str] = Field(default_factory=lambda: ["#python-infra"])
    channel_keys: dict[str, SecretStr] = Field(default_factory=dict)
    rejoin_on_kick: bool = True
    rejoin_delay: float = Field(default=5.0, ge=0, description="Seconds before a rejoin")
    regain_nick_interval: float = Field(
        default=30.0, gt=0, description="Seconds between tries to take back the main nick"
    )
    ping_interval: float = Field(
        default=60.0, gt=0, description="Send a PING after this many quiet seconds"
    )
    ping_timeout: float = Field(
        default=30.0, gt=0, description="Seconds without an answer that mean a dead link"
    )
    connect_timeout: float = Field(default=30.0, gt=0, description="To connect and register")
    reconnect_min: float = Field(default=1.0, gt=0, description="First reconnect delay")
    reconnect_max: float = Field(default=60.0, gt=0, description="Longest reconnect delay")
    flood_rate: float = Field(
        default=1.0, description="Lines a second sustained; 0 turns flood control off"
    )
    flood_burst: int = Field(default=5, ge=1, description="Lines sent at once before pacing")
    max_queued_lines: int = Field(
        default=10, ge=2, description="Lines waiting per asker in a channel before summarizing"
    )
    max_private_lines: int = Field(
        default=60, ge=2, description="Lines waiting per private conversation before summarizing"
    )
    channel_max_lines: int | None = Field(
        default=None, ge=1, description="Deprecated: the top-level channel_max_lines"
    )
    lookup_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a WHOX/WHOIS account answer"
    )
    version: str = Field(default="infrabot", description="Answer to CTCP VERSION")

    @field_validator("sasl_mechanism", mode="before")
    @classmethod
    def _mechanism_upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("tls_fingerprint", mode="before")
    @classmethod
    def _fingerprints(cls, value: object) -> object:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            return value
        out = []
        for item in values:
            hex_ = str(item).replace(":", "").strip().lower()
            if not re.fullmatch(r"[0-9a-f]{64}", hex_):
                raise ValueError("a SHA-256 fingerprint is 64 hex digits (colons allowed)")
            out.append(hex_)
        return out

    @model_validator(mode="after")
    def _login_complete(self) -> IrcConfig:
        needs = {
            "EXTERNAL": (self.tls_client_cert, "tls_client_cert"),
            "ECDSA-NIST256P-CHALLENGE": (self.sasl_ecdsa_key, "sasl_ecdsa_key"),
            "PLAIN": (self.sasl_username and self.sasl_password, "sasl_username and _password"),
            "SCRAM-SHA-256": (
                self.sasl_username and self.sasl_password,
                "sasl_username and _password",
            ),
        }
        if self.sasl_mechanism is not None:
            present, key = needs[self.sasl_mechanism]
            if not present:
                raise ValueError(f"sasl_mechanism {self.sasl_mechanism} needs {key}")
        for key in ("tls_fingerprint", "tls_client_cert"):
            if getattr(self, key) and not self.tls:
                raise ValueError(f"{key} needs tls: true (it protects nothing in plain text)")
        if self.sasl_required and not any(present for present, _ in needs.values()):
            raise ValueError("sasl_required needs a way to log in (a password, cert or key)")
        return self


class MatrixConfig(_Section):
    """How to reach the Matrix homeserver, and how patiently to keep talking to it."""

    homeserver: str = Field(default="http://127.0.0.1:8008", description="Base URL")
    user_id: str = Field(default="@infrabot:localhost", description="The bot's Matrix user ID")
    password: SecretStr | None = Field(default=None, description="Login with a password")
    access_token: SecretStr | None = Field(
        default=None, description="Or with an access token (wins over the password)"
    )
    device_name: str = Field(default="infrabot", description="Shown in the device list")
    rooms: list[str] = Field(
        default_factory=list, description="Room aliases or IDs to join; invites only to these"
    )
    store_path: Path = Field(
        default=Path("matrix-store"), description="Folder for the device, sync token, handled IDs"
    )
    max_age: float = Field(
        default=600.0, gt=0, description="Seconds: older commands are never answered"
    )
    sync_timeout: float = Field(default=30.0, gt=0, description="Seconds of one sync long-poll")
    backoff_initial: float = Field(default=1.0, gt=0, description="Seconds: first retry delay")
    backoff_max: float = Field(default=60.0, gt=0, description="Seconds: longest retry delay")
    direct_messages: bool = Field(
        default=False,
        description="Also accept direct-chat invites, answered as private conversations",
    )
    notify_mentions: bool = Field(
        default=True,
        description="Send replies that mention people as m.text: clients never notify notices",
    )
    # End-to-end encryption (README "Encryption" says what each one means).
    encryption: bool = Field(default=False, description="Read encrypted rooms (store_secret)")
    store_secret: SecretStr | None = Field(default=None, description="Crypto store's key")
    encrypt_direct: bool = Field(default=True, description="Direct chats opened are encrypted")
    trust: Literal["cross-signed", "all"] = Field(default="cross-signed", description="Key takers")
    cross_signing: bool = Field(default=True, description="Create/restore keys, sign device")
    recovery_secret: SecretStr | None = Field(default=None, description="Secret storage key")
    recovery_key_file: Path | None = Field(default=None, description="<store_path>/recovery-key")
    undecryptable_notice_after: float = Field(default=60.0, gt=0, description="Seconds")

    @model_validator(mode="after")
    def _backoff_bounds(self) -> MatrixConfig:
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must be at least backoff_initial")
        if self.encryption and self.store_secret is None:
            raise ValueError("encryption needs store_secret (INFRABOT_MATRIX__STORE_SECRET)")
        return self


class RoomRef(_Section):
    """A room on a network: where alerts are announced."""

    network: str
    room: str


class SmtpConfig(_Section):
    """Email delivery of pages."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "infrabot@localhost"
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    timeout: float = 10.0


class WebhookConfig(_Section):
    """A JSON POST for every page event."""

    url: str
    token: SecretStr | None = None
    timeout: float = 10.0


class PagingConfig(_Section):
    """How pages escalate, and the guards against misuse."""

    escalate_after: float = Field(default=900.0, gt=0, description="seconds before escalating")
    merge_window: float = 600.0
    require_identified: bool = True
    rate_limit: int = Field(default=3, ge=1, description="pages per requester per window")
    rate_window: float = 600.0
    confirm_over: int = Field(default=8, ge=1, description="ask first above this many people")
    announce: list[RoomRef] = Field(default_factory=list)
    alert_window: float = Field(
        default=2.0, ge=0, description="seconds alerts are gathered into one announcement"
    )
    page_severities: list[str] = Field(default_factory=lambda: ["critical", "page"])
    smtp: SmtpConfig | None = None
    webhook: WebhookConfig | None = None


class WebConfig(_Section):
    """The HTTP endpoint: health, and alert intake with a bearer token."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: SecretStr | None = None
    metrics: bool = Field(default=True, description="Serve GET /metrics for Prometheus")


class GitInventory(_Section):
    """An inventory kept in a git repository (``inventory: {git: URL, ref: main, path: .}``).

    Secrets come from the environment only: ``INFRABOT_GIT_TOKEN`` (HTTPS) or
    ``INFRABOT_GIT_SSH_KEY`` (a key file), and ``INFRABOT_GIT_WEBHOOK_SECRET`` for the push
    webhook; never put them in the URL."""

    git: str = Field(min_length=1, description="The repository: a URL or a local path")
    ref: str = Field(default="main", pattern=r"^[A-Za-z0-9._/-]+$", description="The branch")
    path: str = Field(default=".", description="The folder of parts inside the repository")
    clone: Path | None = Field(
        default=None, description="Where the bot keeps its clone; default: beside the store"
    )
    announce: list[RoomRef] = Field(
        default_factory=list, description="Rooms told of reloads the push webhook starts"
    )


def default_inventory_path() -> Path:
    """The shipped PSF inventory: inside the wheel, or at the root of a checkout."""
    bundled = Path(__file__).parent / "data" / "inventory.yaml"
    if bundled.is_file():
        return bundled
    return Path(__file__).resolve().parents[2] / "inventory.yaml"


class RateLimitConfig(_Section):
    """How many commands one user may send, on every network alike."""

    rate: float = Field(
        default=0.5, ge=0, description="Commands a second per user sustained; 0 turns it off"
    )
    burst: int = Field(default=5, ge=1, description="Commands a user may send at once")
    quiet: float = Field(
        default=60.0, gt=0, description="Seconds a user over the limit is ignored after the notice"
    )


class Config(BaseSettings):
    """Everything ``infrabot run`` needs; every key has a working default."""

    model_config = SettingsConfigDict(
        env_prefix="INFRABOT_", env_nested_delimiter="__", extra="forbid"
    )

    inventory: Path | GitInventory = Field(default_factory=default_inventory_path)
    plugins: list[Path] | None = Field(
        default=None, description="Plugin folders; the shipped plugins when not set."
    )
    prefix: str = Field(default="!", min_length=1, max_length=5)
    store: Path = Path("infrabot.db")
    admins: AdminsConfig = Field(default_factory=AdminsConfig)
    paging: PagingConfig = Field(default_factory=PagingConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    channel_max_lines: int = Field(
        default=4,
        ge=1,
        description="A channel answer longer than this goes to the asker in private, with a "
        "pointer in the channel (every network)",
    )
    web: WebConfig | None = None
    irc: IrcConfig | None = None
    matrix: MatrixConfig | None = None
    watch_inventory: bool = Field(
        default=False, description="Reload the inventory when its file changes."
    )
    log_level: str = Field(
        default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL (the bot's own logs)"
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text for people; json for machines (one object a line, with its fields)",
    )
    log_libraries: bool = Field(
        default=False,
        description="Let libraries (irc, nio, aiohttp, ...) log below WARNING too (redacted)",
    )
    max_inventory_bytes: int = 64 * 1024 * 1024

    @property
    def channel_lines(self) -> int:
        """``channel_max_lines``, or the older ``irc.channel_max_lines`` when only it is set."""
        if "channel_max_lines" not in self.model_fields_set and self.irc is not None:
            return self.irc.channel_max_lines or self.channel_max_lines
        return self.channel_max_lines

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in _LEVELS:
            raise ValueError(f"must be one of {', '.join(_LEVELS)}")
        return level


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


_PATH_KEYS = ("inventory", "store")
_SECTION_PATH_KEYS = (
    ("matrix", "store_path"),
    ("irc", "tls_ca_file"),
    ("irc", "tls_client_cert"),
    ("irc", "tls_client_key"),
    ("irc", "sasl_ecdsa_key"),
)


def load_config(path: Path | None, **overrides: Any) -> Config:
    """Read ``path`` (or only the environment and defaults when None) into a :class:`Config`.

    Errors name the file and line and never repeat a secret from it.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ConfigError(f"{path}: cannot read: {reason}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(_yaml_problem(path, exc, _redactor_from_text(text))) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        data = _resolve_paths(loaded or {}, path.parent)
    data.update({k: v for k, v in overrides.items() if v is not None})
    where = str(path) if path else "configuration"
    try:
        return Config(**data)
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        message = f"{where}: " + "; ".join(lines)
    except SettingsError as exc:  # an INFRABOT_* variable that does not parse
        message, lines = f"{where}: {exc}", []
    redactor = Redactor(_secrets_in(data))
    problems = tuple(redactor.redact(f"{where}: {line}") for line in lines)
    raise ConfigError(redactor.redact(message), problems)


def _yaml_problem(path: Path, exc: yaml.YAMLError, redactor: Redactor) -> str:
    """Where and what, from PyYAML's marks, without the quoted line (it may hold a secret)."""
    problem = getattr(exc, "problem", None) or "not valid YAML"
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None and (mark is None or start.line != mark.line):
        problem += f" ({context} that starts at line {start.line + 1})"
    elif context:
        problem += f" ({context})"
    return redactor.redact(f"{where}: {problem}")


_KEY_VALUE = re.compile(r"""\b([A-Za-z0-9_]+)["']?[ \t]*:[ \t]*(\S.*)$""", re.MULTILINE)
_QUOTES = "\"'"


def _redactor_from_text(text: str) -> Redactor:
    """Secrets of a file that does not parse: what follows a secret's key, on its line."""
    redactor = Redactor()
    for match in _KEY_VALUE.finditer(text):
        if secret_key(match.group(1)):
            rest = match.group(2).rstrip()
            tokens = (t.strip(_QUOTES + ",}]") for t in rest.split())
            redactor.add(rest, _value_at(rest), *(t for t in tokens if len(t) >= 3))
    return redactor


def _value_at(rest: str) -> str:
    """The scalar at the start of ``rest``: quoted (maybe unterminated), or plain."""
    if rest[0] in _QUOTES:
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 0 else rest[1:]
    return re.split(r"[,}\]]|\s+#", rest, maxsplit=1)[0].strip()


def _secrets_in(data: object, *, secret: bool = False) -> Iterator[str]:
    """Scalars under a secret's key (``*password``, ``*token``, ``channel_keys``, ...)."""
    if isinstance(data, dict):
        for key, value in data.items():
            inner = secret or secret_key(str(key)) or key == "channel_keys"
            yield from _secrets_in(value, secret=inner)
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _secrets_in(item, secret=secret)
    elif secret and isinstance(data, str | int | float) and not isinstance(data, bool):
        yield str(data)
    elif isinstance(data, SecretStr):
        yield data.get_secret_value()


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(data)
    for key in _PATH_KEYS:
        if isinstance(out.get(key), str):
            out[key] = base / out[key]
    if isinstance(out.get("plugins"), list):
        out["plugins"] = [base / p if isinstance(p, str) else p for p in out["plugins"]]
    for section, key in _SECTION_PATH_KEYS:
        values = out.get(section)
        if isinstance(values, dict) and isinstance(values.get(key), str):
            out[section] = {**values, key: base / values[key]}
    return out
