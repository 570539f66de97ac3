"""What a test needs besides Python: the markers `make test-fast` selects on.

A test is marked from what it uses, never by hand: the fixtures it asks for (pytest's
closure of `item.fixturenames`), and the names its own code and its fixtures' code call,
followed into the helpers they call from tests/. A fixture that starts moto, a test that
opens a local stack, a helper that drives Chromium: each carries its marker to every test
that reaches it, so a new test is placed right without anyone remembering to mark it.

The markers are registered in pyproject.toml (pytest runs with --strict-markers).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath
from types import CodeType, FunctionType
from typing import Any

# Fixtures that are the dependency itself.
FIXTURE_NEEDS = {
    "engines": "engines",  # DynamoDB Local + cognito-local (tests/conftest.py)
    "package_zip": "package",  # the built Lambda zip (tests/package/conftest.py)
}

# Names that, when called or referenced, start or drive the dependency.
NAME_NEEDS = {
    "local_engines": "engines",
    "start_dynamodb": "engines",
    "start_cognito": "engines",
    "start_moto": "moto",
    "mock_aws": "moto",
    "LambdaProcess": "package",
}

# String constants that do the same through a child process or a program on the PATH.
TEXT_NEEDS = {
    "infra.local.stack": "engines",  # `python -m infra.local.stack run` starts both engines
    "chromium": "browser",
}

# Folders that hold a program only another make target installs, named by a path a test
# uses: a module-level Path (`ZAPPA = ROOT / ".venv-package" / "bin" / "zappa"`), a Path built
# inline (the constant ".venv-package") or a path as text (f"{ROOT}/.venv-package/bin/python").
PATH_NEEDS = {".venv-package": "package"}  # Zappa's build venv, made with the Lambda zip

# Folders whose tests run in another interpreter (Airflow's, .venv-airflow).
FOLDER_NEEDS = {"dags": "airflow"}

TESTS = Path(__file__).resolve().parent


def _is_ours(obj: Any) -> bool:
    """A function or class written in tests/: worth following into."""
    module = getattr(obj, "__module__", None) or ""
    return module == "tests" or module.startswith("tests.")


def _codes(code: CodeType) -> Iterator[CodeType]:
    """A code object and every function, lambda or comprehension nested in it."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _codes(constant)


def _functions(obj: Any) -> Iterator[FunctionType]:
    """The plain functions behind a function, a fixture wrapper or a class's methods."""
    obj = inspect.unwrap(obj)
    if isinstance(obj, FunctionType):
        yield obj
    elif inspect.isclass(obj):
        for member in vars(obj).values():
            plain = member.fget if isinstance(member, property) else member
            plain = getattr(plain, "__func__", plain)  # staticmethod, classmethod
            if isinstance(plain, FunctionType):
                yield plain


def _texts(constants: Iterable[Any]) -> Iterator[str]:
    """The strings among a code object's constants (a literal list of them is one tuple)."""
    for constant in constants:
        if isinstance(constant, str):
            yield constant
        elif isinstance(constant, tuple | frozenset):
            yield from _texts(constant)


def _path_needs(text: str) -> Iterator[str]:
    """The PATH_NEEDS of a string that is a path into one of those folders, or the folder's
    own name. Prose and expected output hold spaces (".venv-package/bin/zappa undeploy …"):
    a test that only prints or compares them runs nothing there."""
    if any(character.isspace() for character in text):
        return
    for folder, need in PATH_NEEDS.items():
        if text == folder or f"{folder}/" in text:
            yield need


def needs_of_code(start: Iterable[Any]) -> set[str]:
    """The markers reached from these functions, following the helpers in tests/ they name."""
    found: set[str] = set()
    seen: set[int] = set()
    pending = [function for obj in start for function in _functions(obj)]
    while pending:
        function = pending.pop()
        if id(function.__code__) in seen:
            continue
        seen.add(id(function.__code__))
        for code in _codes(function.__code__):
            for name in code.co_names:
                if name in NAME_NEEDS:
                    found.add(NAME_NEEDS[name])
                target = function.__globals__.get(name)
                if isinstance(target, PurePath):
                    found.update(need for part, need in PATH_NEEDS.items() if part in target.parts)
                elif target is not None and _is_ours(target):
                    pending.extend(_functions(target))
            for constant in _texts(code.co_consts):
                found.update(need for text, need in TEXT_NEEDS.items() if text in constant)
                found.update(_path_needs(constant))
    return found


def needs_of_item(
    path: Path, fixturenames: Iterable[str], functions: Iterable[Callable[..., Any]]
) -> set[str]:
    """Every marker a collected test needs: from its folder, fixtures and code."""
    found = {need for name, need in FIXTURE_NEEDS.items() if name in fixturenames}
    relative = path.resolve().relative_to(TESTS) if path.resolve().is_relative_to(TESTS) else path
    found.update(need for folder, need in FOLDER_NEEDS.items() if folder in relative.parts[:1])
    found |= needs_of_code(functions)
    return found
