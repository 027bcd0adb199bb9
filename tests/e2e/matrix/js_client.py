"""An independent client for the end-to-end tests: matrix-js-sdk with its Rust crypto (the
crypto Element uses), run by Node from ``js/driver.mjs``, which no one here wrote the crypto of.

``scripts/install-matrix-js`` installs the npm packages (pinned in ``js/package-lock.json``)
into ``js/node_modules``. One driver process holds every device of a test; each request is a
JSON line on its stdin and is answered by one on its stdout (see the driver's header).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matrix_harness import PASSWORD

JS_DIR = Path(__file__).parent / "js"
NODE_MAJOR = 20  # what matrix-js-sdk 36 needs


def node() -> str | None:
    """The Node to run: the installer's own (when the system's was too old), or the system's."""
    local = JS_DIR / ".node" / "bin" / "node"
    return str(local) if local.exists() else shutil.which("node")


def js_missing() -> str | None:
    """Why the js client cannot run here, or None when it can."""
    found = node()
    if found is None:
        return "node is not installed: run scripts/install-matrix-js"
    version = subprocess.run(
        [found, "-p", "process.versions.node"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if int(version.split(".")[0] or 0) < NODE_MAJOR:
        return f"node {version} is older than {NODE_MAJOR}: run scripts/install-matrix-js"
    if not (JS_DIR / "node_modules" / "matrix-js-sdk" / "package.json").exists():
        return "matrix-js-sdk is not installed: run scripts/install-matrix-js"
    return None


class JsDriver:
    """One ``node driver.mjs`` process; its SDK logging goes to ``log``."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)

    async def start(self) -> None:
        """Start Node and wait for the driver's hello (the SDK and the wasm loaded)."""
        executable = node()
        assert executable is not None, js_missing()
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                executable,
                str(JS_DIR / "driver.mjs"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=JS_DIR,
            )
        hello = self._pending[0] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(hello, 30)

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while line := await self._process.stdout.readline():
            message = json.loads(line)
            future = self._pending.pop(message["id"], None)
            if future is None or future.done():
                continue
            if message["ok"]:
                future.set_result(message["result"])
            else:
                future.set_exception(AssertionError(f"js client: {message['error']}"))
        for future in self._pending.values():  # the driver died: fail every waiting call
            if not future.done():
                future.set_exception(AssertionError(f"js driver exited; see {self.log}"))
        self._pending.clear()

    async def call(self, op: str, **args: Any) -> Any:
        """Run ``op`` in the driver and return its result (raises what it raised).

        Waiting ops time out in the driver after ``within`` seconds (20 by default) with a
        message saying what they waited for; this side waits a little longer, for that.
        """
        assert self._process is not None and self._process.stdin is not None
        request_id = next(self._ids)
        future = self._pending[request_id] = asyncio.get_running_loop().create_future()
        self._process.stdin.write(json.dumps({"id": request_id, "op": op, **args}).encode() + b"\n")
        await self._process.stdin.drain()
        return await asyncio.wait_for(future, args.get("within", 20.0) + 30.0)

    async def close(self) -> None:
        """End the driver: stdin closed stops its clients; killed by PID if it lingers."""
        if self._process is None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._process = None


@dataclass
class JsDevice:
    """One logged-in device of a user on the js client."""

    driver: JsDriver
    name: str
    user_id: str
    device_id: str

    @classmethod
    async def login(
        cls, driver: JsDriver, name: str, homeserver: str, user_id: str, **options: Any
    ) -> JsDevice:
        """Log ``user_id`` in on a new device called ``name``, synced and ready
        (``recovery_key=`` lets it open the user's secret storage)."""
        result = await driver.call(
            "login",
            client=name,
            homeserver=homeserver,
            user_id=user_id,
            password=PASSWORD,
            **options,
        )
        return cls(driver, name, result["user_id"], result["device_id"])

    async def call(self, op: str, **args: Any) -> Any:
        """Run ``op`` as this device."""
        return await self.driver.call(op, client=self.name, **args)

    async def say(self, room_id: str, text: str) -> str:
        """Send ``text`` (encrypted in an encrypted room); returns its event ID."""
        result = await self.call("send", room_id=room_id, body=text)
        event_id: str = result["event_id"]
        return event_id

    async def reply_to(self, event_id: str, sender: str, within: float = 20.0) -> dict[str, Any]:
        """Wait for ``sender``'s first reply to ``event_id`` that this device could decrypt."""
        match = {"sender": sender, "reply_to": event_id}
        event: dict[str, Any] = await self.call("wait_for_event", match=match, within=within)
        return event

    async def replies_to(self, event_id: str, sender: str) -> list[dict[str, Any]]:
        """Every reply of ``sender`` to ``event_id`` seen so far (undecryptable ones too)."""
        events: list[dict[str, Any]] = await self.call(
            "events", match={"sender": sender, "reply_to": event_id}
        )
        return events
