"""The harness of the Matrix end-to-end tests: Synapse, the people, and the bot.

Synapse runs from its own virtualenv (``scripts/install-synapse``), on SQLite, bound to
127.0.0.1 on a free port, in a temporary folder, and is stopped by its PID. Users are
registered through the shared-secret admin API (milliseconds a user). One Synapse serves the
whole session; tests about rate limits start their own with a low ``rc_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from nio import AsyncClient, AsyncClientConfig, ErrorResponse, RoomCreateError, RoomPreset

from infrabot.app import App
from infrabot.config import AdminsConfig, Config, MatrixConfig, RateLimitConfig
from infrabot.loader import builtin_plugin_dir
from infrabot.store import Store
from infrabot.testing import until
from infrabot.transports.matrix import MatrixTransport

ROOT = Path(__file__).resolve().parents[3]
TEST_PLUGINS = Path(__file__).parent / "plugins"
SERVER_NAME = "localhost"
PASSWORD = "correct horse battery staple"
LIMITS_OFF = {"per_second": 10000, "burst_count": 100000}


def synapse_python() -> Path | None:
    """The interpreter of Synapse's own virtualenv, if Synapse is installed there."""
    configured = os.environ.get("INFRABOT_SYNAPSE_PYTHON")
    python = Path(configured) if configured else ROOT / ".venv-synapse" / "bin" / "python"
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import synapse.app.homeserver"], capture_output=True, check=False
    )
    return python if probe.returncode == 0 else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Synapse:
    """One homeserver in ``folder``: generated config, start, stop, restart, registration."""

    def __init__(self, python: Path, folder: Path, *, rc_message: dict[str, float] | None = None):
        self.python = python
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._configure(rc_message or LIMITS_OFF)

    def _configure(self, rc_message: dict[str, float]) -> None:
        config_path = self.folder / "homeserver.yaml"
        subprocess.run(
            [
                str(self.python),
                *("-m", "synapse.app.homeserver", "--server-name", SERVER_NAME),
                *("--config-path", str(config_path), "--data-directory", str(self.folder)),
                *("--generate-config", "--report-stats=no"),
            ],
            check=True,
            capture_output=True,
            cwd=self.folder,
        )
        self._quiet_logs()
        config = yaml.safe_load(config_path.read_text())
        config.update(
            listeners=[
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            trusted_key_servers=[],
            bcrypt_rounds=4,
            presence={"enabled": False},
            rc_message=rc_message,
            rc_login={
                "address": LIMITS_OFF,
                "account": LIMITS_OFF,
                "failed_attempts": LIMITS_OFF,
            },
            rc_registration=LIMITS_OFF,
            rc_joins={"local": LIMITS_OFF, "remote": LIMITS_OFF},
            rc_invites={"per_room": LIMITS_OFF, "per_user": LIMITS_OFF},
            enable_registration=False,
        )
        config_path.write_text(yaml.safe_dump(config))
        self.secret = str(config["registration_shared_secret"])
        self.config_path = config_path

    def _quiet_logs(self) -> None:
        """Log warnings only, into this server's folder: less disk work on a small machine."""
        log_config = self.folder / f"{SERVER_NAME}.log.config"
        logging_config = yaml.safe_load(log_config.read_text())
        logging_config["handlers"]["file"]["filename"] = str(self.folder / "homeserver.log")
        logging_config["root"]["level"] = "WARNING"
        for logger in logging_config.get("loggers", {}).values():
            logger["level"] = "WARNING"
        log_config.write_text(yaml.safe_dump(logging_config))

    def start(self) -> None:
        """Start the homeserver and wait until ``/health`` answers."""
        log = (self.folder / "synapse.out").open("ab")
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.folder / "synapse.out").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"synapse exited with {self.process.returncode}:\n{tail}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/health", timeout=1) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("synapse did not become healthy within 60 s")

    def stop(self) -> None:
        """Stop the homeserver by its PID (SIGTERM, then SIGKILL if it lingers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def restart(self) -> None:
        """Stop and start again on the same port and database."""
        self.stop()
        self.start()

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read() or b"{}")
            return result

    def register(self, localpart: str, *, admin: bool = False, displayname: str = "") -> str:
        """Register ``localpart`` with :data:`PASSWORD` via the shared-secret admin API."""
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        # The MAC covers the fields joined by NULs (no NUL after the last one).
        signed = "\x00".join((nonce, localpart, PASSWORD, "admin" if admin else "notadmin"))
        mac = hmac.new(self.secret.encode(), signed.encode(), hashlib.sha1)
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": PASSWORD,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if displayname:
            body["displayname"] = displayname
        user_id: str = self._request("POST", "/_synapse/admin/v1/register", body)["user_id"]
        return user_id

    def login_token(self, user_id: str) -> str:
        """An access token for ``user_id`` (for admin API calls)."""
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": PASSWORD,
        }
        token: str = self._request("POST", "/_matrix/client/v3/login", body)["access_token"]
        return token

    def exempt_from_rate_limits(self, admin_token: str, user_id: str) -> None:
        """Let ``user_id`` send freely (0/0 means no limit), whatever ``rc_message`` says."""
        self._request(
            "POST",
            f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=admin_token,
        )


@dataclass
class Users:
    """The people registered for a test session."""

    bot: str
    boss: str
    alice: str
    mallory: str


def start_synapse(
    python: Path, folder: Path, rc_message: dict[str, float] | None = None
) -> tuple[Synapse, Users]:
    """A started Synapse in ``folder`` with the usual users registered."""
    folder.mkdir(parents=True, exist_ok=True)
    server = Synapse(python, folder, rc_message=rc_message)
    server.start()
    try:
        users = register_users(server)
    except BaseException:
        server.stop()  # never leave a homeserver behind
        raise
    return server, users


def register_users(server: Synapse, suffix: str = "") -> Users:
    """The usual users, registered on ``server`` with ``suffix`` after each localpart.

    Tests that share one homeserver each take users of their own: a user's rooms and
    devices outlive the test that made them, and every later first sync and every room key
    shared would carry them all.
    """
    return Users(
        bot=server.register(f"infrabot{suffix}", displayname="infrabot"),
        boss=server.register(f"boss{suffix}", admin=True, displayname="The Boss"),
        alice=server.register(f"alice{suffix}", displayname="Alice"),
        mallory=server.register(f"mallory{suffix}", displayname="Mallory"),
    )


@dataclass
class Person:
    """A test user on a nio client that records every event of the rooms it is in."""

    homeserver: str
    user_id: str
    client: AsyncClient = field(init=False)
    events: list[dict[str, Any]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        """Log in with the test password and start recording."""
        self.client = AsyncClient(
            self.homeserver, self.user_id, config=AsyncClientConfig(request_timeout=10)
        )
        response = await self.client.login(PASSWORD)
        assert not isinstance(response, ErrorResponse), response
        first = await self.client.sync(timeout=0)
        assert not isinstance(first, ErrorResponse), first
        self._task = asyncio.create_task(self._record())

    async def _record(self) -> None:
        while True:
            try:
                response = await self.client.sync(timeout=1000)
            except Exception:  # the homeserver may be restarting: keep listening
                await asyncio.sleep(0.2)
                continue
            if isinstance(response, ErrorResponse):
                await asyncio.sleep(0.2)
                continue
            for room_id, info in response.rooms.join.items():
                for event in info.timeline.events:
                    self.events.append({**event.source, "room_id": room_id})

    async def stop_recording(self) -> None:
        """Stop the background sync (someone else will sync this client)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close(self) -> None:
        """Stop recording and close the connection."""
        await self.stop_recording()
        await self.client.close()

    async def create_room(
        self, invite: tuple[str, ...] = (), *, private: bool = False
    ) -> tuple[str, str]:
        """A new room (public, or invite-only) with a fresh alias: (room ID, alias)."""
        localpart = f"infra-{uuid.uuid4().hex[:10]}"
        preset = RoomPreset.private_chat if private else RoomPreset.public_chat
        response = await self.client.room_create(
            alias=localpart, preset=preset, invite=list(invite)
        )
        assert not isinstance(response, RoomCreateError), response
        return response.room_id, f"#{localpart}:{SERVER_NAME}"

    async def join(self, room: str) -> None:
        """Join ``room`` (ID or alias)."""
        response = await self.client.join(room)
        assert not isinstance(response, ErrorResponse), response

    async def say(self, room_id: str, text: str) -> str:
        """Send ``text`` as a plain message; returns its event ID."""
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        assert not isinstance(response, ErrorResponse), response
        event_id: str = response.event_id
        return event_id

    async def notified_events(self) -> list[str]:
        """IDs of the events the homeserver notified this user about (push rules applied)."""
        response = await self.client.send(
            "GET",
            "/_matrix/client/v3/notifications",
            headers={"Authorization": f"Bearer {self.client.access_token}"},
        )
        body = await response.json()
        return [n["event"]["event_id"] for n in body.get("notifications", [])]

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invite ``user_id`` to ``room_id``."""
        response = await self.client.room_invite(room_id, user_id)
        assert not isinstance(response, ErrorResponse), response

    async def members(self, room_id: str) -> dict[str, str]:
        """Each member's membership in ``room_id`` (join, invite, leave, ...)."""
        response = await self.client.send(
            "GET",
            f"/_matrix/client/v3/rooms/{room_id}/members",
            headers={"Authorization": f"Bearer {self.client.access_token}"},
        )
        body = await response.json()
        return {e["state_key"]: e["content"]["membership"] for e in body.get("chunk", [])}

    async def set_name(self, name: str) -> None:
        """Change the display name."""
        response = await self.client.set_displayname(name)
        assert not isinstance(response, ErrorResponse), response

    async def rename_in(self, room_id: str, name: str) -> None:
        """Change the display name and wait until ``room_id`` shows it.

        Synapse updates the room's member event after the profile call returns; waiting for
        it means a bot in the room has seen the new name before this person speaks.
        """
        await self.set_name(name)
        await self.wait_for(
            lambda: any(
                e.get("type") == "m.room.member"
                and e.get("state_key") == self.user_id
                and e["content"].get("displayname") == name
                and e["room_id"] == room_id
                for e in self.events
            ),
            what=f"the new display name {name!r} in the room",
        )

    async def accept_direct_from(self, sender: str, starting: str) -> str:
        """Join the direct room ``sender`` invited this person to, and wait there for a
        message from it starting with ``starting``; returns the room's ID."""
        await self.wait_for(lambda: bool(self.client.invited_rooms), what="an invite")
        direct = next(iter(self.client.invited_rooms))
        await self.join(direct)
        await self.wait_for(
            lambda: any(
                e["room_id"] == direct
                and e.get("sender") == sender
                and e.get("type") == "m.room.message"
                and e["content"].get("body", "").startswith(starting)
                for e in self.events
            ),
            what=f"a message starting {starting!r} in the direct room",
        )
        return direct

    def replies_to(self, event_id: str, sender: str) -> list[dict[str, Any]]:
        """The notices ``sender`` sent in reply to ``event_id`` so far."""
        return [
            e
            for e in self.events
            if e.get("sender") == sender
            and e.get("type") == "m.room.message"
            and e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            == event_id
        ]

    async def wait_for(
        self, condition: Callable[[], bool], within: float = 20.0, what: str = "condition"
    ) -> None:
        """Wait until ``condition()`` holds, or fail after ``within`` seconds."""
        await until(condition, within, what)

    async def reply_to(self, event_id: str, sender: str, within: float = 20.0) -> dict[str, Any]:
        """Wait for the first reply of ``sender`` to ``event_id``."""
        await self.wait_for(
            lambda: bool(self.replies_to(event_id, sender)), within, f"a reply to {event_id}"
        )
        return self.replies_to(event_id, sender)[0]


class Bot:
    """infrabot with only the Matrix transport, started and stopped within a test."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.transport: MatrixTransport | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, within: float = 30.0) -> None:
        """Start serving and wait until the first sync is done."""
        assert self.config.matrix is not None
        app = App(self.config, store=Store(self.config.store))
        self.transport = MatrixTransport(self.config.matrix)
        self._task = asyncio.create_task(app.run([self.transport]))
        ready = asyncio.create_task(self.transport.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises what made the bot stop
            raise AssertionError("the bot stopped before it was ready")
        if ready not in done:
            ready.cancel()
            raise AssertionError(f"the bot was not ready within {within} s")

    async def stop(self) -> None:
        """Stop the bot as an operator would, and wait for it to finish."""
        if self.transport is not None and self._task is not None:
            await self.transport.stop()
            await asyncio.wait_for(self._task, 15)
        self._task = None


def bot_config(
    homeserver: str,
    users: Users,
    rooms: list[str],
    store: Path,
    rate_limit: RateLimitConfig | None = None,
    **matrix: Any,
) -> Config:
    """A configuration for the bot: the test plugins beside the shipped ones."""
    return Config(
        plugins=[builtin_plugin_dir(), TEST_PLUGINS],
        store=store / "infrabot.sqlite3",
        admins=AdminsConfig(matrix=[users.boss]),
        rate_limit=rate_limit or RateLimitConfig(rate=0),
        matrix=MatrixConfig(
            homeserver=homeserver,
            user_id=users.bot,
            password=PASSWORD,
            rooms=rooms,
            store_path=store / "matrix",
            backoff_initial=0.1,
            backoff_max=1.0,
            sync_timeout=5.0,
            **matrix,
        ),
    )
