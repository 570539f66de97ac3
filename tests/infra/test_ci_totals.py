"""`.ci/run` must close on the tests that really ran.

CI reads the last runner line of `.ci/run`; the fuzz stage ends on a pytest-style
line without counts, so the fuzz's report stays in its log file with only a count
line printed, and the run closes on the sum of every pytest session of `make test`,
in pytest's own closing format and as a plain line, refusing a log in which nothing
passed.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "pytest_totals.py"
FUZZ = ROOT / ".ci" / "fuzz_result.py"


def totals(tmp_path: Path, log: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "test.log"
    path.write_text(log, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )


def test_sums_both_sessions_into_one_plain_line(tmp_path: Path) -> None:
    result = totals(
        tmp_path,
        "tests/api/test_x.py ....\n"
        "=========== 596 passed, 2 skipped, 3 warnings in 301.20s (0:05:01) ===========\n"
        "make[1]: Entering directory\n"
        "============================== 57 passed in 80.12s ==============================\n",
    )
    assert result.returncode == 0, result.stderr
    closing, plain = result.stdout.strip().splitlines()
    assert plain == "653 passed, 0 failed, 2 skipped"
    assert re.fullmatch(r"=+ 653 passed, 0 failed, 2 skipped in 381\.32s =+", closing)


def test_failures_and_errors_count_as_failed(tmp_path: Path) -> None:
    result = totals(tmp_path, "===== 3 failed, 10 passed, 1 error in 9.00s =====\n")
    assert result.stdout.strip().splitlines()[-1] == "10 passed, 4 failed, 0 skipped"
    assert result.returncode == 1


def test_a_log_where_nothing_ran_is_not_green(tmp_path: Path) -> None:
    result = totals(tmp_path, "===== 2 warnings in 90.02s =====\n")
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == "0 passed, 0 failed, 0 skipped"


# --- the fuzz's count line (from Schemathesis 4's report) ---

EMF = '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Tasklake/API"}]},"Requests":1}\n'
FUZZ_REPORT = (
    EMF * 3 + "=================================== SUMMARY ====================================\n"
    "\n"
    "API Operations:\n"
    "  Selected: 19/19\n"
    "  Tested: 19\n"
    "\n"
    "Test cases:\n"
    "  93 generated, 93 passed, 16 skipped\n"
    "\n"
    "============================= 3 warnings in 20.63s =============================\n"
)


def fuzz_result(tmp_path: Path, log: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "fuzz.log"
    path.write_text(log, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(FUZZ), str(path)], capture_output=True, text=True, check=False
    )


def test_the_fuzz_result_is_a_count_of_its_test_cases(tmp_path: Path) -> None:
    result = fuzz_result(tmp_path, FUZZ_REPORT)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("fuzz: 77 passed, 0 failed, 16 skipped (93 test cases, 3 warnings;")


def test_fuzz_failures_and_errors_fail_it(tmp_path: Path) -> None:
    report = FUZZ_REPORT.replace(
        "93 generated, 93 passed, 16 skipped", "93 generated, 4 found 2 unique failures, 1 errored"
    )
    result = fuzz_result(tmp_path, report)
    assert result.stdout.startswith("fuzz: 88 passed, 5 failed, 0 skipped")
    assert result.returncode == 1


def test_a_fuzz_report_without_test_cases_fails_it(tmp_path: Path) -> None:
    result = fuzz_result(tmp_path, "=== Empty test suite ===\n")
    assert result.stdout.startswith("fuzz: 0 passed, 0 failed")
    assert result.returncode == 1


# --- .ci/run itself, with a stand-in `make` that prints what each target prints ---

FAKE_MAKE = """#!/bin/sh
case "$*" in
  *test*)
    echo "tests/api/test_x.py ...."
    echo "=========== 596 passed, 2 skipped, 3 warnings in 301.20s (0:05:01) ==========="
    echo "======================= 57 passed in 80.12s ======================="
    exit "${FAKE_TEST_RC:-0}" ;;
  *fuzz*)
    cat "$FAKE_FUZZ_REPORT"
    exit "${FAKE_FUZZ_RC:-0}" ;;
esac
"""


def ci_run(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """`.ci/run` in a copy of the repository's .ci folder, `make` stood in for."""
    shutil.copytree(ROOT / ".ci", tmp_path / "repo" / ".ci")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text(FAKE_MAKE)
    (bin_dir / "make").chmod(stat.S_IRWXU)
    (tmp_path / "report.txt").write_text(FUZZ_REPORT)
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(tmp_path / "repo" / ".ci" / "run")],
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_FUZZ_REPORT": str(tmp_path / "report.txt"),
            **environment,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_ci_closes_on_the_pytest_total_and_keeps_the_fuzz_report_in_its_log(
    tmp_path: Path,
) -> None:
    result = ci_run(tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "653 passed, 0 failed, 2 skipped"
    assert lines[-2].strip("= ") == "653 passed, 0 failed, 2 skipped in 381.32s"
    # Nothing of the fuzz's report reaches the output but its own count line.
    assert '"_aws"' not in result.stdout
    assert "3 warnings in 20.63s" not in result.stdout
    fuzz_lines = [line for line in lines if line.startswith("fuzz: ")]
    assert len(fuzz_lines) == 1
    assert fuzz_lines[0].startswith("fuzz: 77 passed, 0 failed, 16 skipped")
    assert lines.index(fuzz_lines[0]) < len(lines) - 2
    log = (tmp_path / "repo" / "build" / "ci" / "fuzz.log").read_text()
    assert log == FUZZ_REPORT


@pytest.mark.parametrize(
    ("environment", "status"), [({"FAKE_FUZZ_RC": "3"}, 3), ({"FAKE_TEST_RC": "1"}, 1)]
)
def test_a_failing_fuzz_or_test_fails_the_run(
    tmp_path: Path, environment: dict[str, str], status: int
) -> None:
    result = ci_run(tmp_path, **environment)
    assert result.returncode == status
    assert "653 passed, 0 failed" not in result.stdout
