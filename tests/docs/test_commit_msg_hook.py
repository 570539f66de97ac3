"""The commit-msg hook `make venv` installs: real `git commit`s in a throwaway repository.

The repository gets the project's hook script and .gitlint, the hook is installed by the
Makefile's own rule, and `.venv` points at the interpreter running this test (the dev venv,
which has gitlint). Git's global and system settings are kept out, so a developer's own
hooksPath or signing setup changes nothing here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONVENTIONAL_72 = "docs(readme): " + "x" * (72 - len("docs(readme): "))


def git_env() -> dict[str, str]:
    keep_out = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GIT_HOOKS", "GIT_DIR", "GIT_WORK_TREE"}
    env = {k: v for k, v in os.environ.items() if k not in keep_out}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return env


def run(repo: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=repo, env=git_env(), capture_output=True, text=True, check=False
    )


def install_hook(repo: Path) -> subprocess.CompletedProcess[str]:
    """The Makefile's rule, run in `repo`: the hooks folder is the one git names there."""
    return run(repo, "make", "-s", "-f", str(ROOT / "Makefile"), "commit-msg-hook")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    run(tmp_path, "git", "init", "-q", "-b", "main")
    (tmp_path / ".githooks").mkdir()
    shutil.copy2(ROOT / ".githooks" / "commit-msg", tmp_path / ".githooks" / "commit-msg")
    shutil.copy2(ROOT / ".gitlint", tmp_path / ".gitlint")
    (tmp_path / ".venv").symlink_to(sys.prefix)
    installed = install_hook(tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert os.access(tmp_path / ".git" / "hooks" / "commit-msg", os.X_OK)
    return tmp_path


def commit(repo: Path, message: str) -> subprocess.CompletedProcess[str]:
    return run(repo, "git", "commit", "-q", "--allow-empty", "-m", message)


def subjects(repo: Path) -> list[str]:
    return run(repo, "git", "log", "--format=%s").stdout.splitlines()


def test_a_conventional_subject_of_72_characters_is_committed(repo: Path) -> None:
    assert len(CONVENTIONAL_72) == 72

    for subject in ["feat(api): list tasks by due date", CONVENTIONAL_72]:
        result = commit(repo, f"{subject}\n\nWhy it changed.")
        assert result.returncode == 0, result.stderr

    assert subjects(repo) == [CONVENTIONAL_72, "feat(api): list tasks by due date"]


def test_a_subject_that_is_not_conventional_is_refused(repo: Path) -> None:
    result = commit(repo, "Add due dates to the task list")

    assert result.returncode != 0
    assert "CT1" in result.stderr  # gitlint's contrib-title-conventional-commits rule
    assert subjects(repo) == []


def test_a_subject_of_73_characters_is_refused(repo: Path) -> None:
    result = commit(repo, CONVENTIONAL_72 + "y")

    assert result.returncode != 0
    assert "T1 Title exceeds max length (73>72)" in result.stderr
    assert subjects(repo) == []


def test_a_merge_commit_passes_in_gits_own_words(repo: Path) -> None:
    branch = "a-branch-whose-name-makes-the-merge-subject-longer-than-72-characters"
    assert commit(repo, "feat: start").returncode == 0
    run(repo, "git", "switch", "-q", "-c", branch)
    assert commit(repo, "fix: on the branch").returncode == 0
    run(repo, "git", "switch", "-q", "main")
    assert commit(repo, "docs: on main").returncode == 0

    merged = run(repo, "git", "merge", "--no-ff", "--no-edit", branch)

    assert merged.returncode == 0, merged.stderr
    assert subjects(repo)[0] == f"Merge branch '{branch}'"


def test_a_commit_msg_hook_of_ones_own_is_left_alone(tmp_path: Path) -> None:
    run(tmp_path, "git", "init", "-q")
    (tmp_path / ".githooks").mkdir()
    shutil.copy2(ROOT / ".githooks" / "commit-msg", tmp_path / ".githooks" / "commit-msg")
    own = tmp_path / ".git" / "hooks" / "commit-msg"
    own.write_text("#!/bin/sh\nexit 0\n")
    os.utime(own, (0, 0))  # there before this checkout's hook script

    result = install_hook(tmp_path)

    assert result.returncode == 0
    assert "not tasklake's" in result.stderr
    assert own.read_text() == "#!/bin/sh\nexit 0\n"
