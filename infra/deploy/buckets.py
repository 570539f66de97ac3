"""Empty a versioned bucket (every version and delete marker) so its stack can delete it.

`aws s3 rm --recursive` removes only current versions; a versioned bucket keeps the rest and
CloudFormation then fails to delete it.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from infra.deploy.outputs import CommandFailed, aws_executable, aws_json

PAGE = 1000  # delete-objects takes at most 1000 keys per call


def empty_bucket(bucket: str) -> int:
    """Delete every object version in the bucket; returns how many went."""
    deleted = 0
    while True:
        listing = aws_json(
            "s3api", "list-object-versions", "--bucket", bucket,
            "--max-keys", str(PAGE), "--no-paginate",
        )  # fmt: skip
        versions = (listing or {}).get("Versions") or []
        markers = (listing or {}).get("DeleteMarkers") or []
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions + markers][:PAGE]
        if not batch:
            return deleted
        with tempfile.TemporaryDirectory() as folder:
            request = Path(folder) / "delete.json"
            request.write_text(json.dumps({"Objects": batch, "Quiet": True}))
            argv = ["s3api", "delete-objects", "--bucket", bucket, "--delete", f"file://{request}"]
            done = subprocess.run(  # noqa: S603 (our fixed command)
                [aws_executable(), *argv], capture_output=True, text=True, check=False
            )
        errors = json.loads(done.stdout or "{}").get("Errors") if done.returncode == 0 else None
        if done.returncode != 0 or errors:
            raise CommandFailed(["aws", *argv], done.returncode, done.stderr or json.dumps(errors))
        deleted += len(batch)
