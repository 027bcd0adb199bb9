"""An inventory kept in a git repository: the bot keeps a clone and serves one commit.

A load fetches the configured ref from the remote into a bare clone in the bot's state
folder, writes the commit's folder of parts out into a fresh folder of its own (from git's
objects, linking every file the serving commit's folder holds the same: :mod:`.git_tree`),
and reads the parts there (only those whose blob changed since the serving commit are read and
parsed again). Nothing serves until it is validated; once installed, the folders of other
commits are removed.

Credentials come from the environment and never reach an argument list, a log or the remote
shown to people: ``INFRABOT_GIT_TOKEN`` (an HTTPS token, sent as a header through git's
environment configuration) and ``INFRABOT_GIT_SSH_KEY`` (the path of a private key file).
Git never prompts: a missing or refused credential is an error at once.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

from infrabot.inventory.git_tree import Listing, known_parts, parse_listing, read_blobs, write_tree
from infrabot.inventory.load import DEFAULT_MAX_BYTES
from infrabot.inventory.parts import load_parts
from infrabot.inventory.source import Loaded, Revision, SourceError, index_parts, parts_diff
from infrabot.text import clean_line

__all__ = ["FetchError", "GitSource", "shown_remote"]

TOKEN_ENV = "INFRABOT_GIT_TOKEN"
SSH_KEY_ENV = "INFRABOT_GIT_SSH_KEY"
_TIMEOUT = 120.0  # seconds a git command may take (a first clone of a large repository)
_COMMIT = re.compile(r"[0-9a-fA-F]{4,40}")


class FetchError(SourceError):
    """The repository could not be fetched, or the commit asked for is not there; one line."""


def shown_remote(url: str) -> str:
    """``url`` as people may see it: without any user name or password in it."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    if not parts.scheme and re.match(r"^[^/@]+@[^/:]+:", url):  # scp-like: user@host:path
        return url.split("@", 1)[1]
    return url


@dataclass(frozen=True, slots=True)
class _Settings:
    remote: str
    ref: str
    path: str
    clone: Path


class GitSource:
    """Serves the inventory at ``path`` in commits of ``ref`` of the repository at ``remote``."""

    def __init__(
        self,
        remote: str,
        *,
        ref: str = "main",
        path: str = ".",
        clone: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = _Settings(remote, ref, str(PurePosixPath(path)), clone)
        self.max_bytes = max_bytes
        self._environ = dict(os.environ if environ is None else environ)
        self._serving: Loaded | None = None
        self._listings: dict[str, Listing] = {}  # of the folders written, by their path
        self.origin = f"{shown_remote(remote)} ({ref}, {self._settings.path})"
        """Where the inventory comes from, as people may see it."""

    @property
    def serving(self) -> Loaded | None:
        """What was installed last."""
        return self._serving

    @property
    def ref(self) -> str:
        """The branch whose commits are served."""
        return self._settings.ref

    def load(self, revision: str | None = None) -> Loaded:
        """Fetch, check out ``revision`` (the ref's newest commit by default) in a fresh work
        tree, and validate the parts there; :class:`FetchError` or
        :class:`~infrabot.errors.InventoryError` when it cannot serve."""
        self._fetch()
        commit = self._commit(revision)
        tree = self._settings.clone / "trees" / commit
        previous = self._serving.parts if self._serving is not None else None
        settings = self._settings
        try:
            files = self._tree(commit, tree)
            parts = load_parts(
                tree / settings.path,
                max_bytes=self.max_bytes,
                label=settings.path if settings.path != "." else "",
                previous=previous,
                known=known_parts(files),
            )
        except BaseException:
            if self._serving is None or self._serving.origin != str(tree):
                self._remove_tree(tree)
            raise
        return Loaded(
            index_parts(parts, self._serving),
            parts,
            self._revision(commit),
            parts_diff(previous, parts),
            origin=str(tree),
        )

    def installed(self, loaded: Loaded) -> None:
        """``loaded`` serves from now on (its folder is the one a next load links from)."""
        self._serving = loaded
        self._listings = {loaded.origin: self._listings.get(loaded.origin, {})}

    def tidy(self) -> None:
        """Remove the folders of the commits that do not serve. Blocking."""
        serving = self._serving.origin if self._serving is not None else None
        trees = self._settings.clone / "trees"
        for tree in trees.iterdir() if trees.is_dir() else ():
            if str(tree) != serving:
                self._remove_tree(tree)

    # --- git ---

    def _fetch(self) -> None:
        settings = self._settings
        bare = settings.clone / "repo.git"
        if not (bare / "HEAD").is_file():
            bare.mkdir(parents=True, exist_ok=True)
            self._git(["init", "--bare", "--quiet"], what="create the clone")
        # the remote is given on each fetch, never stored: nobody edits it behind our back
        spec = f"+refs/heads/{settings.ref}:refs/remotes/origin/{settings.ref}"
        self._git(["fetch", "--quiet", "--no-tags", "--prune", "--", settings.remote, spec])

    def _commit(self, revision: str | None) -> str:
        tip_ref = f"refs/remotes/origin/{self._settings.ref}"
        tip = self._git_text(["rev-parse", "--verify", "--quiet", f"{tip_ref}^{{commit}}"]).strip()
        if revision is None:
            return tip
        if not _COMMIT.fullmatch(revision):
            raise FetchError(f"'{clean_line(revision, 50)}' is not a commit id (hex digits)")
        found = self._git_text(
            ["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            what=f"find commit {revision}",
            missing=f"no commit {revision} in {self.origin}",
        ).strip()
        try:
            self._git(["merge-base", "--is-ancestor", found, tip], what="")
        except FetchError:
            raise FetchError(
                f"commit {found[:7]} is not on {self._settings.ref} of {self.origin} "
                "(force-pushed away?); refusing it"
            ) from None
        return found

    def _tree(self, commit: str, tree: Path) -> Listing:
        """Write the folder of ``commit`` out under ``tree`` (unless it is the one serving),
        linking what the serving folder holds the same; the files written, by blob."""
        serving = self._serving.origin if self._serving is not None else None
        if serving == str(tree):
            return self._listings[serving]
        self._remove_tree(tree)
        path = self._settings.path
        listing = self._git(
            ["ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", path], what="list"
        )
        try:
            files = parse_listing(listing, path)
            base = None
            if serving is not None and serving in self._listings:
                base = (Path(serving) / path, self._listings[serving])
            write_tree(tree / path, files, self._blobs, base)
        except ValueError as exc:
            raise FetchError(f"cannot read commit {commit[:7]}: {exc}") from None
        self._listings[str(tree)] = files
        return files

    def _blobs(self, oids: list[str]) -> dict[str, bytes]:
        """The content of each blob of ``oids``."""
        if not oids:
            return {}
        out = self._git(["cat-file", "--batch"], what="read", given="\n".join(oids) + "\n")
        return read_blobs(out, oids)

    def _remove_tree(self, tree: Path) -> None:
        if tree.exists():
            shutil.rmtree(tree, ignore_errors=True)
        if (self._settings.clone / "repo.git" / "worktrees").exists():  # made by older bots
            self._git_text(["worktree", "prune"], what="")

    def _revision(self, commit: str) -> Revision:
        out = self._git_text(["log", "-1", "--format=%H%x00%s%x00%an", commit, "--"], what="read")
        full, subject, author = [*out.strip("\n").split("\0"), "", ""][:3]
        return Revision(full, clean_line(subject, 120), clean_line(author, 60))

    def _git_text(self, args: Sequence[str], *, what: str = "fetch", missing: str = "") -> str:
        """:meth:`_git`'s output as text."""
        return self._git(args, what=what, missing=missing).decode("utf-8", "replace")

    def _git(
        self, args: Sequence[str], *, what: str = "fetch", missing: str = "", given: str = ""
    ) -> bytes:
        """Run git on the bare clone (``given`` on its input); a failure is a
        :class:`FetchError` in one line."""
        bare = self._settings.clone / "repo.git"
        try:
            done = subprocess.run(
                ["git", f"--git-dir={bare}", *args],
                capture_output=True,
                input=given.encode(),
                timeout=_TIMEOUT,
                env=self._env(),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FetchError(f"git {what} timed out after {_TIMEOUT:.0f} s") from None
        except OSError as exc:
            raise FetchError(f"cannot run git: {exc.strerror or exc}") from None
        if done.returncode != 0:
            if missing:
                raise FetchError(missing)
            stderr = done.stderr.decode("utf-8", "replace")
            raise FetchError(f"{what} from {self.origin} failed: {self._why(stderr)}")
        return done.stdout

    def _why(self, stderr: str) -> str:
        """The telling line of git's complaint, without anything secret in it."""
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        line = (fatal or lines or ["git gave no reason"])[-1]
        line = line.removeprefix("fatal: ").removeprefix("error: ")
        for secret in (self._settings.remote, self._environ.get(TOKEN_ENV, "")):
            if secret:
                line = line.replace(secret, shown_remote(secret) if "/" in secret else "***")
        return clean_line(line, 200)

    def _env(self) -> dict[str, str]:
        env = {
            k: v for k, v in self._environ.items() if not k.startswith("GIT_") and k != TOKEN_ENV
        }
        env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", LC_ALL="C")
        token = self._environ.get(TOKEN_ENV)
        if token:  # a header through git's environment configuration: never an argument
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            env.update(
                GIT_CONFIG_COUNT="1",
                GIT_CONFIG_KEY_0="http.extraHeader",
                GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}",
            )
        key = self._environ.get(SSH_KEY_ENV)
        ssh = "ssh -o BatchMode=yes"
        if key:
            ssh += f" -o IdentitiesOnly=yes -i {shlex.quote(key)}"
        env["GIT_SSH_COMMAND"] = ssh
        return env
