"""Real InspIRCd + Atheme services for end-to-end tests, in a temporary folder.

Both listen on free 127.0.0.1 ports and are stopped by the PIDs this module started.
InspIRCd gets four client ports: ``port`` (flood limits off, for tests that are not about
flooding), ``flood_port`` (InspIRCd's default limits: threshold 10, commandrate 1000,
fakelag on), ``tls_port`` (a self-signed certificate, flood limits off) and ``cert_port``
(TLS that asks for a client certificate and tells services its SHA-256 fingerprint, for
SASL EXTERNAL). Atheme speaks SASL PLAIN, EXTERNAL and ECDSA-NIST256P-CHALLENGE. With
``sts``, InspIRCd also offers an IRCv3 STS policy: plain ports point to ``tls_port``, and
TLS connections made to the name ``localhost`` get a persistence policy.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IrcServers", "servers_installed"]

SERVICES_NAME = "services.test"
LINK_PASSWORD = "linkpass"
STS_DURATION = 300
"""Seconds of the STS persistence policy servers made with ``sts`` offer."""


def servers_installed() -> bool:
    """Whether both InspIRCd and Atheme are on PATH (or in the usual sbin folders)."""
    return _which("inspircd") is not None and _which("atheme-services") is not None


def _which(name: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/sbin"
    return shutil.which(name, path=path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost; returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _inspircd_conf(s: IrcServers) -> str:
    modules = [
        "cap",
        "ircv3",
        "ircv3_capnotify",
        "ircv3_accounttag",
        "ircv3_ctctags",
        "ircv3_servertime",
        "ircv3_msgid",
        "namesx",
        "sasl",
        "services_account",
        "spanningtree",
        "svshold",
        "ssl_gnutls",
        "sslinfo",
    ]
    if s.sts:
        modules.append("ircv3_sts")
    loads = "\n".join(f'<module name="{m}">' for m in modules)
    sts = f'<sts host="localhost" port="{s.tls_port}" duration="{STS_DURATION}">' if s.sts else ""
    # Clone limits and lookups are not flood settings: 20+ test users share 127.0.0.1.
    common = (
        'allow="*" resolvehostnames="no" useident="no" localmax="1000" globalmax="1000" '
        'timeout="20"'
    )
    unlimited = (
        'threshold="1000000" commandrate="100000000" fakelag="no" recvq="65536" '
        'sendq="1048576" softsendq="65536" hardsendq="1048576"'
    )
    return f"""
<server name="irc.test" description="infrabot test server" network="InfrabotTest">
<admin name="test" nick="test" email="test@example.org">
<bind address="127.0.0.1" port="{s.port}" type="clients">
<bind address="127.0.0.1" port="{s.flood_port}" type="clients">
<bind address="127.0.0.1" port="{s.tls_port}" type="clients" sslprofile="test">
<bind address="127.0.0.1" port="{s.cert_port}" type="clients" sslprofile="certs">
<bind address="127.0.0.1" port="{s.link_port}" type="servers">
<sslprofile name="test" provider="gnutls" certfile="{s.cert}" keyfile="{s.key}"
    requestclientcert="no">
<sslprofile name="certs" provider="gnutls" certfile="{s.cert}" keyfile="{s.key}"
    requestclientcert="yes" hash="sha256">
{sts}
<connect name="flood" port="{s.flood_port}" {common}>
<connect name="main" {common} {unlimited}>
<pid file="{s.dir}/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{s.dir}/ircd.log">
<dns server="127.0.0.1" timeout="1">
<options prefixquit="" syntaxhints="no" announcets="yes" hostintopic="yes">
<security hidesplits="no" hideulines="no" flatlinks="no">
<performance clonesonconnect="no" timeskipwarn="0">
{loads}
<sasl target="{SERVICES_NAME}" requiressl="no">
<link name="{SERVICES_NAME}" ipaddr="127.0.0.1" port="{s.link_port}"
    allowmask="127.0.0.0/8" sendpass="{LINK_PASSWORD}" recvpass="{LINK_PASSWORD}">
<uline server="{SERVICES_NAME}" silent="yes">
"""


def _atheme_conf(s: IrcServers) -> str:
    mods = [
        "protocol/inspircd",
        "backend/opensex",
        "crypto/pbkdf2v2",
        "nickserv/main",
        "nickserv/identify",
        "nickserv/register",
        "saslserv/main",
        "saslserv/plain",
        "saslserv/external",
        "saslserv/ecdsa-nist256p-challenge",
        "nickserv/cert",
        "nickserv/set_core",
        "nickserv/set_pubkey",
    ]
    loads = "\n".join(f'loadmodule "modules/{m}";' for m in mods)
    return f"""
{loads}
serverinfo {{
    name = "{SERVICES_NAME}";
    desc = "test services";
    numeric = "00A";
    recontime = 1;
    netname = "InfrabotTest";
    hidehostsuffix = "users.test";
    adminname = "test";
    adminemail = "test@example.org";
    registeremail = "noreply@example.org";
    mta = "/bin/true";
    loglevel = {{ error; info; admin; network; }};
    maxlogins = 50;
    maxusers = 50;
    mdlimit = 30;
    emaillimit = 1000;
    emailtime = 300;
    auth = none;
    casemapping = rfc1459;
}};
uplink "irc.test" {{
    host = "127.0.0.1";
    password = "{LINK_PASSWORD}";
    port = {s.link_port};
}};
nickserv {{
    nick = "NickServ";
    user = "NickServ";
    host = "{SERVICES_NAME}";
    real = "Nickname Services";
    maxnicks = 5;
    expire = 30;
}};
saslserv {{
    nick = "SaslServ";
    user = "SaslServ";
    host = "{SERVICES_NAME}";
    real = "SASL Authentication Agent";
}};
general {{
    flood_msgs = 1000;
    flood_time = 1;
    ratelimit_uses = 100000;
    ratelimit_period = 1;
    kline_time = 7;
    commit_interval = 5;
    default_clone_allowed = 1000;
    default_clone_warn = 1000;
    uplink_sendq_limit = 1048576;
    language = "en";
    immune_level = immune;
}};
logfile "{s.dir}/atheme-account.log" {{ register; set; }};
"""


@dataclass
class IrcServers:
    """One InspIRCd and one Atheme, configured in ``dir``; start, kill and restart them."""

    dir: Path
    port: int = field(default_factory=free_port)
    flood_port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    cert_port: int = field(default_factory=free_port)
    link_port: int = field(default_factory=free_port)
    cert: Path = field(init=False)
    key: Path = field(init=False)
    ircd: subprocess.Popen[bytes] | None = field(default=None, init=False)
    services: subprocess.Popen[bytes] | None = field(default=None, init=False)
    services_revived: int = field(default=0, init=False)
    sts: bool = False

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert, self.key = make_self_signed(self.dir)
        (self.dir / "inspircd.conf").write_text(_inspircd_conf(self))
        (self.dir / "atheme.conf").write_text(_atheme_conf(self))

    def start(self) -> None:
        """Start InspIRCd, then Atheme; return once SASL is advertised (services linked)."""
        self.start_ircd()
        self.start_services()
        self.wait_ready(sasl=True)

    def start_ircd(self) -> None:
        """Start InspIRCd in the foreground (as a child we can stop by PID)."""
        self.ircd = subprocess.Popen(
            [
                _which("inspircd") or "inspircd",
                "--config",
                str(self.dir / "inspircd.conf"),
                "--nofork",
                "--runasroot",
                "--nopid",
            ],
            stdout=(self.dir / "ircd.out").open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )

    def start_services(self) -> None:
        """Start Atheme; it links to InspIRCd and relinks by itself after a restart."""
        self.services = subprocess.Popen(
            [
                _which("atheme-services") or "atheme-services",
                "-n",
                "-c",
                str(self.dir / "atheme.conf"),
                "-D",
                str(self.dir),
                "-p",
                str(self.dir / "atheme.pid"),
                "-l",
                str(self.dir / "atheme.log"),
            ],
            stdout=(self.dir / "atheme.out").open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )

    def wait_ready(self, *, sasl: bool, timeout: float = 15.0, revive: bool = False) -> None:
        """Poll ``CAP LS`` on the client port until it answers (and lists sasl, if asked).

        With ``revive``, Atheme is started again if it died: Atheme 7.2 sometimes crashes
        (SIGSEGV) while relinking to a restarted InspIRCd, which is not what tests are about.
        """
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if revive and self.services is not None and self.services.poll() is not None:
                self.services_revived += 1
                self.start_services()
            self._check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"CAP LS 302\r\n")
                    data = b""
                    while b"CAP * LS" not in data or not data.endswith(b"\r\n"):
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    last = data.decode(errors="replace")
                    if "CAP * LS" in last and (not sasl or "sasl" in last):
                        sock.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"IRC servers not ready after {timeout} s; last answer: {last!r}")

    def _check_alive(self) -> None:
        for name, proc in (("inspircd", self.ircd), ("atheme", self.services)):
            if proc is not None and proc.poll() is not None:
                log = self.dir / ("ircd.out" if name == "inspircd" else "atheme.log")
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def kill_ircd(self) -> None:
        """Kill InspIRCd outright (SIGKILL): every client sees its connection die."""
        _stop(self.ircd, signal.SIGKILL)
        self.ircd = None

    def restart_ircd(self) -> None:
        """Kill InspIRCd and start it again; Atheme relinks within about a second."""
        self.kill_ircd()
        self.start_ircd()
        self.wait_ready(sasl=True, revive=True)

    def stop(self) -> None:
        """Stop Atheme (SIGTERM, so it saves its database), then InspIRCd."""
        _stop(self.services, signal.SIGTERM)
        self.services = None
        _stop(self.ircd, signal.SIGTERM)
        self.ircd = None


def _stop(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
