"""What loading the app imports: every module here is paid for by every cold start.

A fresh interpreter loads the app's modules and reports which of the named ones it imported;
each named one is needed by a few requests only, or not at all, and is imported there.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# module: why loading the app must not import it
NOT_AT_LOAD = {
    # Only its dist/ folder is served (api/swagger_ui.py); the module reads its own version
    # from the installed distributions when imported.
    "flask_swagger_ui": "found by path, never imported",
    # Only creating a task needs a ULID (api/tasks/service.py).
    "ulid": "imported by the first POST /tasks",
}


def _imported_by_loading_the_app() -> set[str]:
    script = (
        "import json, sys\n"
        "import api.app\n"
        f"print(json.dumps(sorted(set(sys.modules).intersection({sorted(NOT_AT_LOAD)!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("module", sorted(NOT_AT_LOAD))
def test_loading_the_app_leaves_this_module_unimported(module: str) -> None:
    assert module not in _imported_by_loading_the_app(), NOT_AT_LOAD[module]
