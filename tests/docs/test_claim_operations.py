"""A document that says how many operations the API has ("19 operations", "nineteen HTTP
endpoints") says what the app's OpenAPI spec holds: one operation per HTTP-method key under
`paths` (a path's `parameters` key is not one).

Read: docs/, README.md and the `.cursor/` context and rules, which describe the repository as it
is. Prompt records are left out: they state what a past run measured, a number that stays true
of that run when operations are added.
"""

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.docs.markdown import ROOT, current_documents, relative, without_fences

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen")
NUMBER_WORDS = (
    {word: value for value, word in enumerate((*_UNITS, *_TEENS, "eighteen", "nineteen"))}
    | {"twenty": 20}
    | {f"twenty-{word}": 20 + value for value, word in enumerate(_UNITS) if value}
)
_COUNT = r"\b(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
# "19 operations", "19 API operations"; endpoints and routes only when qualified as the API's,
# since "11 endpoints" elsewhere are VPC endpoints.
OPERATION_CLAIM = re.compile(
    _COUNT + r"\s+(?:(?:(?:API|HTTP|REST|OpenAPI)\s+)?operations"
    r"|(?:API|HTTP|REST|OpenAPI)\s+(?:endpoints|routes))\b",
    re.IGNORECASE,
)
DOCUMENTS = current_documents()


# In a child process: create_app() binds the PynamoDB models to its tables and sets up logging,
# process-wide state that tests run after this one in the same session must not inherit.
_PRINT_SPEC = (
    "import json, logging; from api.app import create_app; from api.config import Settings; "
    "logging.disable(); "
    "print(json.dumps(create_app(Settings()).test_client().get('/openapi.json').get_json()))"
)


@cache
def openapi_spec() -> dict[str, Any]:
    printed = subprocess.run(
        [sys.executable, "-c", _PRINT_SPEC],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec: dict[str, Any] = json.loads(printed.strip().splitlines()[-1])
    return spec


def spec_operation_count() -> int:
    paths = openapi_spec()["paths"]
    return sum(1 for item in paths.values() for key in item if key in HTTP_METHODS)


def operation_claims(text: str) -> list[tuple[int, int]]:
    """(line, count) of every operation-count claim outside fenced blocks."""
    prose = without_fences(text)
    claims = []
    for match in OPERATION_CLAIM.finditer(prose):
        word = match.group(1).lower()
        count = int(word) if word.isdigit() else NUMBER_WORDS[word]
        claims.append((prose.count("\n", 0, match.start()) + 1, count))
    return claims


def test_the_spec_counts_methods_not_path_parameters() -> None:
    spec = openapi_spec()
    keys = {key for item in spec["paths"].values() for key in item}
    assert "parameters" in keys, "no path-level parameters: the count below proves less"
    assert spec_operation_count() == len(
        [(path, key) for path, item in spec["paths"].items() for key in item if key != "parameters"]
    )


def test_claims_are_found_in_words_and_digits_but_not_vpc_endpoints() -> None:
    text = (
        "The API has 21 operations in its spec.\n"
        "Nineteen HTTP endpoints, 3 REST routes.\n"
        "11 endpoints x 2 AZ; 4 DynamoDB operations per request.\n"
        "```\n99 operations\n```\n"
    )
    assert operation_claims(text) == [(1, 21), (2, 19), (2, 3)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_operation_counts_match_the_spec(document: Path) -> None:
    expected = spec_operation_count()
    wrong = [
        f"{relative(document)}:{line}: says {count} operations; the spec has {expected}"
        for line, count in operation_claims(document.read_text(encoding="utf-8"))
        if count != expected
    ]
    assert not wrong, "\n".join(wrong)


def test_documents_are_read() -> None:
    assert (ROOT / "README.md") in DOCUMENTS
    assert any(relative(path).startswith("docs/adr/") for path in DOCUMENTS)
