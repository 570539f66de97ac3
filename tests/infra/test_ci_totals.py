"""`.ci/pytest_totals.py` must close a CI run on the tests that really ran.

CI reads the last runner line of `.ci/run`; the fuzz stage ends on a pytest-style
line without counts, so the totals script has to find every pytest session of
`make test` and refuse a log in which nothing passed.
"""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "pytest_totals.py"


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
    assert result.stdout.strip().splitlines()[-1] == "ci: 653 passed, 0 failed, 2 skipped"


def test_failures_and_errors_count_as_failed(tmp_path: Path) -> None:
    result = totals(tmp_path, "===== 3 failed, 10 passed, 1 error in 9.00s =====\n")
    assert result.stdout.strip() == "ci: 10 passed, 4 failed, 0 skipped"
    assert result.returncode == 1


def test_a_log_where_nothing_ran_is_not_green(tmp_path: Path) -> None:
    result = totals(tmp_path, "===== 2 warnings in 90.02s =====\n")
    assert result.returncode == 1
    assert "0 passed" in result.stdout
