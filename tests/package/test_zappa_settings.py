"""What the pinned Zappa makes of the settings `make deploy` writes for each stage.

The settings are derived as the deploy derives them (infra/deploy/zappa_settings.py, with
placeholder exports), then loaded by Zappa's own CLI in the build virtualenv, offline: the
values Zappa will act on, not the JSON we hope it reads.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import stacks
from infra.deploy.zappa_settings import derive, write

ROOT = Path(__file__).resolve().parents[2]
ZAPPA_PYTHON = ROOT / ".venv-package" / "bin" / "python"
EXPORTS = {
    name: f"arn:aws:test:::{name}"
    for name in (
        "kms-key-arn", "tasks-table", "users-table", "idempotency-table",
        "revoked-tokens-table", "rate-limits-table", "user-pool-id", "user-pool-client-id",
        "api-role-arn", "cursor-secret-arn", "artifacts-bucket",
    )
}  # fmt: skip
# One child for every stage (Zappa takes a second to import); a fresh CLI object per stage.
LOAD = """
import json, sys
from zappa.cli import ZappaCLI
read = {}
for path, stage in zip(sys.argv[1::2], sys.argv[2::2]):
    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(path)
    read[stage] = {"num_retained_versions": cli.num_retained_versions,
                   "snap_start": cli.snap_start, "aws_region": cli.aws_region}
print(json.dumps(read))
"""


@pytest.fixture(scope="module")
def zappa_reads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What Zappa reads from each stage's settings, by stage."""
    folder = tmp_path_factory.mktemp("zappa-settings")
    argv = []
    for stage in stacks.STAGES:
        settings = derive(stage, "eu-west-1", EXPORTS, stacks.tags(stage), touch=False)
        argv += [str(write(stage, settings, folder / f"zappa_settings.{stage}.json")), stage]
    offline = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        [str(ZAPPA_PYTHON), "-c", LOAD, *argv],
        cwd=folder, env=offline, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    read: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return read


@pytest.mark.parametrize("stage", list(stacks.STAGES))
def test_each_update_keeps_three_published_versions(
    stage: str, zappa_reads: dict[str, dict[str, Any]]
) -> None:
    """Every `zappa update` publishes a version; with SnapStart (prod) each one keeps a cached
    snapshot, billed while the version exists, and counts against the 75 GB code storage:
    https://docs.aws.amazon.com/lambda/latest/dg/snapstart-activate.html#snapshot-delete
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    Zappa prunes all but `num_retained_versions` after each update; three leave the live
    version and two to `zappa rollback` to. Zappa refuses fewer than 2 with SnapStart."""
    read = zappa_reads[stage]

    assert read["num_retained_versions"] == 3
    assert read["aws_region"] == "eu-west-1"
    assert read["snap_start"] == (
        "PublishedVersions" if stacks.STAGES[stage].snap_start else "None"
    )
