"""Tests are marked with what they need from what they use, so `make test-fast` leaves out
exactly the tests that need an engine, moto, a browser, the Lambda zip or Airflow."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.local import services
from tests import needs
from tests.harness import local_engines

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__)


# --- stand-ins for the shapes real tests take (never called: only their code is read) ---


def moto_fixture(tmp_path: Path) -> Iterator[str]:
    server = services.start_moto(services.free_port(), tmp_path / "moto.log")
    yield server.url


@contextmanager
def stack_in_a_child_process() -> Iterator[None]:
    command = ["python", "-m", "infra.local.stack", "run"]
    yield print(command)


def test_using_the_stack_helper() -> None:
    with stack_in_a_child_process():
        pass


def engines_through_a_nested_helper(workdir: Path) -> None:
    def inner() -> None:
        with local_engines(workdir, cursor_secret="x"):
            pass

    inner()


class Browser:
    def screenshot(self) -> list[str]:
        return ["chromium", "--headless"]


ZAPPA = ROOT / ".venv-package" / "bin" / "zappa"


def zappa_version() -> list[str]:
    return [str(ZAPPA), "--version"]


def zappa_path_built_inline() -> list[str]:
    return [str(ROOT / ".venv-package" / "bin" / "zappa"), "--version"]


def zappa_path_as_text() -> list[str]:
    return [f"{ROOT}/.venv-package/bin/python", "-c", "import zappa"]


def advice_naming_the_venv() -> str:
    # Expected output, as in tests/infra/test_deploy_account_checks.py: nothing is run.
    return "then .venv-package/bin/zappa undeploy staging --yes"


def pure(numbers: list[int]) -> int:
    return sum(numbers)


# --- the rules ---


def test_the_engines_and_package_fixtures_mark_every_test_that_reaches_them() -> None:
    # pytest's fixture closure holds `engines` for a test that asks for `client` or `alice`.
    assert needs.needs_of_item(HERE, ["client", "app", "engines"], []) == {"engines"}
    assert needs.needs_of_item(HERE, ["names", "package_zip"], []) == {"package"}


def test_a_fixture_that_starts_moto_marks_the_test() -> None:
    assert needs.needs_of_code([moto_fixture]) == {"moto"}


def test_helpers_in_tests_are_followed_into() -> None:
    assert needs.needs_of_code([test_using_the_stack_helper]) == {"engines"}
    assert needs.needs_of_code([engines_through_a_nested_helper]) == {"engines"}
    assert needs.needs_of_code([Browser]) == {"browser"}


def test_a_program_in_the_package_venv_marks_the_test() -> None:
    # .venv-package is made with the Lambda zip, not by `make venv`: test-fast must leave it out.
    assert needs.needs_of_code([zappa_version]) == {"package"}


def test_a_path_into_the_package_venv_built_inline_or_as_text_marks_the_test() -> None:
    assert needs.needs_of_code([zappa_path_built_inline]) == {"package"}
    assert needs.needs_of_code([zappa_path_as_text]) == {"package"}
    # A sentence naming a program there runs nothing: its test stays fast.
    assert needs.needs_of_code([advice_naming_the_venv]) == set()


def test_a_test_that_needs_nothing_stays_fast() -> None:
    itself = test_a_test_that_needs_nothing_stays_fast
    assert needs.needs_of_item(HERE, ["tmp_path"], [pure, itself]) == set()


def test_the_dag_tests_are_marked_airflow() -> None:
    dag_test = ROOT / "tests" / "dags" / "test_dag_integrity.py"
    assert needs.needs_of_item(dag_test, [], []) == {"airflow"}


def registered_markers() -> set[str]:
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pytest_options["ini_options"]
    assert "--strict-markers" in options["addopts"]
    return {line.split(":")[0] for line in options["markers"]}


def test_every_marker_applied_is_registered() -> None:
    applied = {
        *needs.FIXTURE_NEEDS.values(),
        *needs.NAME_NEEDS.values(),
        *needs.TEXT_NEEDS.values(),
        *needs.FOLDER_NEEDS.values(),
    }
    assert applied == registered_markers()


def test_make_test_fast_leaves_out_every_need_and_the_dag_folder() -> None:
    makefile = (ROOT / "Makefile").read_text()
    fast = re.search(r"^FAST := (.+)$", makefile, re.MULTILINE)
    assert fast is not None
    left_out = set(re.findall(r"not (\w+)", fast[1]))
    # Airflow's tests are left out by folder: they run in .venv-airflow, not the dev venv.
    assert left_out == registered_markers() - {"airflow"}
    recipe = re.search(r"^test-fast:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None
    assert '-m "$(FAST)"' in recipe[1]
    assert "--ignore=tests/dags" in recipe[1]
