"""A real git remote for tests: a bare repository and a work clone that commits and pushes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from infrabot.git_hook import signature
from tests.conftest import PSF_INVENTORY
from tests.inventory.folders import split

_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "CI",
    "GIT_COMMITTER_EMAIL": "ci@example.org",
}


class Remote:
    """``bare`` is the remote the bot fetches from; ``work`` is where people edit and push."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git(root, "init", "--quiet", "--initial-branch=main", str(self.work))
        git(self.work, "remote", "add", "origin", str(self.bare))
        split(PSF_INVENTORY, self.work / "inventory", per_part=4)
        (self.work / "README.md").write_text("the inventory\n")
        self.first = self.commit("Inventory: the PSF's services")

    def commit(self, subject: str, author: str = "Ada Lovelace") -> str:
        """Commit everything in the work clone, push it to main, return the commit id."""
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "-m", subject, env={"GIT_AUTHOR_NAME": author})
        git(self.work, "push", "--quiet", "--force", "origin", "main")
        return git(self.work, "rev-parse", "HEAD").strip()

    def part_with(self, text: str) -> Path:
        """The first part in the work clone that holds ``text``."""
        found = sorted((self.work / "inventory").rglob("*.yaml"))
        return next(p for p in found if text in p.read_text())


def git(where: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=where,
        capture_output=True,
        text=True,
        env={**os.environ, **_ENV, **(env or {})},
        check=True,
        timeout=60,
    )
    return done.stdout


def push_event(secret: str, ref: str = "refs/heads/main") -> tuple[bytes, dict[str, str]]:
    """The body and headers of a push webhook to ``ref``, signed with ``secret`` as GitHub
    signs it (HMAC-SHA256 of the body in ``X-Hub-Signature-256``)."""
    body = json.dumps({"ref": ref, "after": "0" * 40}).encode()
    headers = {
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": signature(secret.encode(), body),
        "Content-Type": "application/json",
    }
    return body, headers
