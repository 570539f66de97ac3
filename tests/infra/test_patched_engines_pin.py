"""Two local engines are patched through their private internals to behave as AWS does.

tests/infra/moto_server.py fills gaps of moto 5.2.5; infra/local/cognito-local-gaps.js fills
gaps of cognito-local 5.3.0. Private APIs change without notice, so these fail on any upgrade:
re-check each gap the patch lists against the new version (drop what it no longer needs), then
move the pin here and in requirements-dev.in (then `make lock`) / infra/local/package.json together.
"""

import json
from importlib.metadata import version

from infra.local.services import NODE_MODULES

PATCHED_MOTO = "5.2.5"
PATCHED_COGNITO_LOCAL = "5.3.0"


def test_the_moto_server_patches_were_checked_against_the_installed_moto() -> None:
    assert version("moto") == PATCHED_MOTO


def test_the_cognito_local_patches_were_checked_against_the_installed_cognito_local() -> None:
    """cognito-local-gaps.js wraps cognito-local's internal targets."""
    installed = json.loads((NODE_MODULES / "cognito-local" / "package.json").read_text())

    assert installed["version"] == PATCHED_COGNITO_LOCAL
