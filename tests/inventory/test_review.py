"""Checks for the inventory's own CI: `infrabot check --format github`, `infrabot diff`, and
the pre-commit hook, on real git repositories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infrabot.cli import main
from infrabot.errors import InventoryProblem
from infrabot.inventory.review import github_annotations
from tests.conftest import ROOT
from tests.inventory.gitrepo import Remote, git


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Remote:
    made = Remote(tmp_path)
    monkeypatch.chdir(made.work)
    return made


def typo(remote: Remote) -> tuple[Path, int]:
    """Misspell a maintainer of PyPI: the part and the line of the broken reference."""
    pypi = remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("- Richard Jones", "- Richard Jone", 1))
    return pypi, pypi.read_text().splitlines().index("  - Richard Jone") + 1


def test_check_github_annotates_the_line(
    remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi, line = typo(remote)
    assert main(["check", "inventory", "--format", "github"]) == 1
    out, err = capsys.readouterr()
    name = pypi.relative_to(remote.work).as_posix()
    assert out.splitlines() == [
        f"::error file={name},line={line},title=infrabot check::"
        "services[PyPI].owners[2]: no person or group 'Richard Jone'; did you mean 'Richard Jones'?"
    ]
    assert err.endswith("1 error\n")  # the plain lines stay on the standard error


def test_check_github_on_an_absolute_path_names_the_file_in_the_repository(
    remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi, line = typo(remote)
    assert main(["check", str(remote.work / "inventory"), "--format", "github"]) == 1
    name = pypi.relative_to(remote.work).as_posix()
    assert capsys.readouterr().out.startswith(f"::error file={name},line={line},")


def test_annotations_cannot_be_ended_or_forged_by_the_text() -> None:
    problem = InventoryProblem("a,b:c.yaml", None, "services[x]", "50% bad\n::error::forged")
    assert github_annotations([problem]) == [
        "::error file=a%2Cb%3Ac.yaml,title=infrabot check::services[x]: 50%25 bad%0A::error::forged"
    ]


def test_check_plain_is_the_default(remote: Remote, capsys: pytest.CaptureFixture[str]) -> None:
    pypi, line = typo(remote)
    assert main(["check", "inventory", "--format", "plain"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"inventory/{pypi.relative_to(remote.work / 'inventory')}:{line}: ")


def drop_richard(remote: Remote) -> str:
    pypi = remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))
    return remote.commit("PyPI: Richard Jones steps down")


def test_diff_of_two_revisions_words_it_as_reload(
    remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_richard(remote)
    (remote.work / "README.md").write_text("edited, not committed: not part of either side\n")
    assert main(["diff", "HEAD~1", "HEAD", "--path", "inventory"]) == 0
    assert capsys.readouterr().out == "PyPI owners −Richard Jones\n"
    assert main(["diff", "HEAD", "HEAD", "--path", "inventory"]) == 0
    assert capsys.readouterr().out == "no changes\n"


def test_diff_of_a_revision_and_the_work_folder(
    remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi = remote.part_with("name: PyPI")
    pypi.write_text(pypi.read_text().replace("  - Richard Jones\n", "", 1))  # not committed
    assert main(["diff", "main", "inventory", "--path", "inventory"]) == 0
    assert capsys.readouterr().out == "PyPI owners −Richard Jones\n"


def test_diff_of_two_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = ROOT / "inventory.yaml"
    new = tmp_path / "new.yaml"
    new.write_text(old.read_text().replace(", Richard Jones]", "]", 1))
    assert main(["diff", str(old), str(new)]) == 0
    assert "PyPI owners −Richard Jones" in capsys.readouterr().out


def test_diff_lists_every_change(remote: Remote, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(8):  # more than a chat line shows
        (remote.work / "inventory" / f"extra{n}.yaml").write_text(
            f"groups:\n  - name: extra{n}\n    kind: team\n    members:\n      - {{person: Richard Jones}}\n"
        )
    remote.commit("eight groups")
    assert main(["diff", "HEAD~1", "HEAD", "--path", "inventory"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("+8 groups (extra0, extra1, extra2, …)")
    assert "more changes" not in out


def test_diff_to_a_broken_revision_lists_its_problems(
    remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi, line = typo(remote)
    remote.commit("a typo")
    assert main(["diff", "HEAD~1", "HEAD", "--path", "inventory"]) == 1
    name = pypi.relative_to(remote.work).as_posix()
    assert capsys.readouterr().err.startswith(f"{name}:{line}: services[PyPI].owners[2]")


@pytest.mark.parametrize("spec", ["no-such-branch", "--upload-pack=touch x", "a..b"])
def test_diff_of_what_is_not_there_is_one_line(
    remote: Remote, spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "HEAD", spec, "--path", "inventory"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no such file, folder or git revision" in err
    assert not (remote.work / "x").exists()


def test_diff_of_a_revision_without_the_folder(
    remote: Remote, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "HEAD", "HEAD", "--path", "nowhere"]) == 2
    assert "no folder or file nowhere" in capsys.readouterr().err


def test_pre_commit_hook_runs_the_check(remote: Remote) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "infrabot-check"
    assert hook["pass_filenames"] is False
    assert hook["language"] == "python"
    entry = hook["entry"].split()
    assert entry[0] == "infrabot"
    command = [sys.executable, "-m", "infrabot.cli", *entry[1:], "inventory"]
    assert subprocess.run(command, cwd=remote.work, capture_output=True).returncode == 0
    typo(remote)
    done = subprocess.run(command, cwd=remote.work, capture_output=True, text=True)
    assert done.returncode == 1
    assert "no person or group 'Richard Jone'" in done.stderr
    assert git(remote.work, "status", "--porcelain")  # the check changed nothing itself
