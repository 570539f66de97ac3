"""Close a CI run on the total of the pytest sessions in a log, in pytest's own format.

`make test` runs pytest twice (the API/infra/ETL suite, then the DAG suite in
Airflow's own interpreter); each ends on a line such as
``===== 596 passed, 2 skipped, 3 warnings in 301.2s =====``. This prints their sum
the way pytest closes a session, then the same counts as one plain line:

    ================ 653 passed, 0 failed, 2 skipped in 381.32s ================
    653 passed, 0 failed, 2 skipped

and exits 1 if no session closed or none passed, so a run that executed nothing
cannot end looking green.
"""

import re
import shutil
import sys

CLOSING = re.compile(r"^=+ (?P<counts>.+?) in (?P<seconds>[0-9.]+)s(?: \([0-9:]+\))? =+$")
COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


def banner(message: str) -> str:
    """`message` centred in `=` across the terminal, as pytest writes its closing line."""
    width = shutil.get_terminal_size((80, 24)).columns
    return f" {message} ".center(width, "=")


def main(path: str) -> int:
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    sessions = 0
    seconds = 0.0
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = CLOSING.match(line.strip())
            if not match:
                continue
            sessions += 1
            seconds += float(match["seconds"])
            for number, word in COUNT.findall(match["counts"]):
                key = "error" if word.startswith("error") else word
                if key in totals:
                    totals[key] += int(number)
    failed = totals["failed"] + totals["error"]
    counts = f"{totals['passed']} passed, {failed} failed, {totals['skipped']} skipped"
    print(banner(f"{counts} in {seconds:.2f}s"))
    print(counts)
    if sessions == 0 or totals["passed"] == 0 or failed:
        print(f"ci: {sessions} pytest session(s) closed in {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
