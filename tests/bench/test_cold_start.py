"""The cold-start bench's hello-world project packages on its own (`make bench-cold`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.cold_start import write_hello_project


def test_the_hello_world_settings_name_no_module_the_folder_lacks(tmp_path: Path) -> None:
    write_hello_project(tmp_path)

    (stage,) = json.loads((tmp_path / "zappa_settings.json").read_text()).values()

    assert stage["app_function"] == "hello.app"
    assert (tmp_path / "hello.py").exists()
    # Zappa imports a settings callback before packaging: infra.deploy.* is not in the folder.
    assert "callbacks" not in stage
