"""tests/infra/moto_server.py reaches into moto's private models to fill gaps of moto 5.2.5.

Private APIs change without notice, so this fails on any moto upgrade: re-check each gap the
module's docstring lists against the new moto (drop the patches it no longer needs), then move
the pin here and in requirements-dev.txt together.
"""

from importlib.metadata import version

PATCHED_MOTO = "5.2.5"


def test_the_moto_server_patches_were_checked_against_the_installed_moto() -> None:
    assert version("moto") == PATCHED_MOTO
