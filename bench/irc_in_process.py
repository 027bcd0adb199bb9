"""Inside the bot: from the bytes of a question read to its answer's write, no network.

The whole bot (the real ``App``, router, plugins and shipped inventory, the IRC transport) on
the fake wire of the IRC unit tests. A question is fed the way the event loop feeds a read (in
a callback of its own), ``!owner pypi`` by default; the time from that call to the answer's
write is the window a round trip cannot avoid. Also the CPU per message, the three passes of
the event loop that follow each included. With ``--cold BYTES``, that many bytes are copied
before every question, so that the caches are cold as on a machine doing other work.

    python bench/irc_in_process.py [--text '!owner pypi'] [--messages 3000] [--cold 2000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "irc"))

from irc_harness import Harness  # noqa: E402

from infrabot.app import App  # noqa: E402
from infrabot.config import Config, RateLimitConfig  # noqa: E402


async def measure(text: str, messages: int, cold: int, rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            store=Path(tmp) / "bot.db", watch_inventory=False, rate_limit=RateLimitConfig(rate=0)
        )
        app = App(config)
        h = Harness(flood_rate=0)
        app.transports = {h.transport.network: h.transport}
        run = asyncio.create_task(h.transport.run(app.deliver))
        await h.connected()
        h.register()
        line = f"@account=alice;msgid=a1 :alice!~alice@host.example PRIVMSG #python-infra :{text}"
        data = (line + "\r\n").encode()
        spans: list[float] = []
        started = [0.0]
        h.wire.write = lambda _: spans.append(time.perf_counter() - started[0])  # type: ignore[method-assign]
        junk, scratch = bytearray(os.urandom(cold)), bytearray(cold)
        loop = asyncio.get_running_loop()

        def read() -> None:  # as the event loop calls the connection when bytes arrive
            if cold:
                scratch[:] = junk
            started[0] = time.perf_counter()
            h.conn.process_data(data)

        async def one() -> None:
            loop.call_soon(read)
            for _ in range(3):
                await asyncio.sleep(0)

        for _ in range(300):  # warm up: the answer is remembered after the first
            await one()
        windows, cpus = [], []
        for _ in range(rounds):
            spans.clear()
            cpu = time.process_time()
            for _ in range(messages):
                await one()
            cpus.append((time.process_time() - cpu) / messages * 1e6)
            windows.append(statistics.median(spans) * 1e6)
        print(
            f"{text!r}: read to write, median of {messages}: best {min(windows):.1f} us "
            f"(rounds {', '.join(f'{w:.1f}' for w in sorted(windows))}); CPU per message "
            f"with three loop passes {min(cpus):.1f} us"
            + (f"; {cold} bytes copied before each" if cold else "")
        )
        await h.transport.stop()
        await run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default="!owner pypi")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--cold", type=int, default=0, help="bytes copied before each question")
    args = parser.parse_args()
    asyncio.run(measure(args.text, args.messages, args.cold))


if __name__ == "__main__":
    main()
