"""What a SnapStart snapshot holds ready (prod: ADR 0009), so no restored container's first
request builds it.

Lambda's Python runtime provides `snapshot_restore_py` and runs its before-snapshot hooks once,
after init, only when SnapStart is on. Elsewhere (other stages, tests, the local server) the
module is absent or its hooks never run: a cold start there that serves a 401 or
/openapi.json still builds no AWS client (tests/api/test_deadline.py). What is prepared is
neither unique nor secret, as a snapshot shared by many containers requires
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html): the DynamoDB client
(botocore session, service model, endpoint: ~35 ms), the TLS context of the JWKS fetch (the
system's CA certificates: 10-30 ms), and python-ulid, which the first create would import.
Hooks: https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html
"""

from __future__ import annotations

import importlib

from api.auth.tokens import jwks_tls_context
from api.storage import connection
from api.tasks.models import Task


def prepare() -> None:
    connection(Task).client  # noqa: B018 (the property builds and guards the client)
    jwks_tls_context()
    importlib.import_module("ulid")


def register() -> bool:
    """Have `prepare` run before Lambda takes the snapshot; False where no runtime offers it."""
    try:
        # Provided by the Lambda runtime only: not a dependency of ours.
        from snapshot_restore_py import (  # type: ignore[import-not-found]  # noqa: PLC0415
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(prepare)
    return True
