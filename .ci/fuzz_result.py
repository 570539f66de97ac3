"""Say what the bounded fuzz run did, as one count line, from its log.

Schemathesis closes its report on a pytest-style banner with no test count
(``===== 3 warnings in 90.02s =====``), which a reader of the CI log would take for
a run that executed nothing, and the app's metric lines fill the log around it. So
`.ci/run` keeps the fuzz's output in build/ci/fuzz.log and prints only this:

    fuzz: 77 passed, 0 failed, 16 skipped (93 test cases, 3 warnings; build/ci/fuzz.log)

from the report's "Test cases:" line (``93 generated, 93 passed, 16 skipped``, or
``93 generated, 4 found 2 unique failures, 1 errored``). Exits 1 when the report has
no such line or no case passed.
"""

import re
import sys

GENERATED = re.compile(r"^\s*(?P<generated>\d+) generated(?P<rest>.*)$")
FOUND = re.compile(r"(\d+) found \d+ unique failures?")
ERRORED = re.compile(r"(\d+) errored")
SKIPPED = re.compile(r"(\d+) skipped")
CLOSING = re.compile(r"^=+ (?P<message>.+ in [0-9.]+s) =+$")


def number(pattern: re.Pattern[str], text: str) -> int:
    match = pattern.search(text)
    return int(match[1]) if match else 0


def main(path: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as log:
        lines = [line.rstrip("\n") for line in log]
    cases = [match for line in lines if (match := GENERATED.match(line))]
    closing = [match["message"] for line in lines if (match := CLOSING.match(line.strip()))]
    if not cases:
        print(f"fuzz: 0 passed, 0 failed (no test cases reported; see {path})")
        return 1
    generated, rest = int(cases[-1]["generated"]), cases[-1]["rest"]
    failed = number(FOUND, rest) + number(ERRORED, rest)
    skipped = number(SKIPPED, rest)
    passed = generated - failed - skipped
    # The closing banner's words without its "in Ns" (the count line carries no duration).
    verdict = closing[-1].rsplit(" in ", 1)[0] if closing else "no closing line"
    print(
        f"fuzz: {passed} passed, {failed} failed, {skipped} skipped "
        f"({generated} test cases, {verdict}; {path})"
    )
    return 0 if passed > 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
