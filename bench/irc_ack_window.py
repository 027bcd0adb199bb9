"""How long a page delivery waits for the server's TCP ACK: plain, and with a PING after it.

A delivery is confirmed (and written to the store as made) only once the server's side has
acknowledged its bytes; a SIGKILL meanwhile means it is made again after the restart. The
server's kernel delays its ACK when it has nothing to send back; a PING it must answer brings
the ACK at once. Alternating, 400 sends, on a real InspIRCd on loopback. Usage::

    python bench/irc_ack_window.py
"""

import fcntl
import socket
import statistics
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e" / "irc"))
from irc_e2e_servers import IrcServers


def conn(port, nick):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :x\r\n".encode())
    buf = b""
    while b" 001 " not in buf:
        buf += s.recv(4096)
    s.setblocking(False)
    return s


def outq(s):
    return int.from_bytes(fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"), sys.byteorder)


def drain(s):
    try:
        while s.recv(65536):
            pass
    except BlockingIOError:
        pass


with tempfile.TemporaryDirectory() as tmp:
    servers = IrcServers(Path(tmp))
    servers.start()
    try:
        bot, peer = conn(servers.port, "bot"), conn(servers.port, "peer")
        res = {"plain": [], "nudged": []}
        for i in range(400):
            mode = "plain" if i % 2 else "nudged"
            drain(bot)
            drain(peer)
            time.sleep(0.01)
            data = b"PRIVMSG peer :PAGE x\r\n" + (
                b"PING :infrabot-ack\r\n" if mode == "nudged" else b""
            )
            t = time.perf_counter()
            bot.sendall(data)
            while outq(bot):
                time.sleep(0.0002)
            res[mode].append((time.perf_counter() - t) * 1000)
        for m, v in res.items():
            v.sort()
            print(
                f"{m}: p50 {statistics.median(v):.2f} ms, "
                f"p90 {v[int(len(v) * 0.9)]:.2f} ms, max {v[-1]:.2f} ms"
            )
    finally:
        servers.stop()
