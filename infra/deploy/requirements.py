"""MWAA's requirements under a key named by their content, so only an edit makes a new object.

The orchestration stack passes MWAA the requirements' S3 path and object version; a new version
makes CloudFormation update the environment, which reinstalls the packages and restarts the
scheduler and workers. `aws s3 sync` uploads a file again when its mtime is newer than the
object's, and a fresh clone gives every file a new mtime: under a fixed key, every deploy from a
new checkout made a new version of the same bytes. Under `requirements/<sha256 prefix>.txt` the
same bytes always have the same key, and the upload skips a key that is already there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

PREFIX = "requirements"
# Where the deploy puts the copy it uploads: `aws s3 sync` takes the key's name from the file's.
STAGED = PurePosixPath("build/mwaa") / PREFIX
# 16 hex digits (64 bits) of the SHA-256: in practice no two versions of one file share a name.
DIGITS = 16


def file_name(content: bytes) -> str:
    return f"{hashlib.sha256(content).hexdigest()[:DIGITS]}.txt"


def s3_key(requirements: Path) -> str:
    """The key the requirements are uploaded to, e.g. `requirements/3f1c0a9e5b7d2e41.txt`."""
    return f"{PREFIX}/{file_name(requirements.read_bytes())}"


def copy_for_upload(requirements: Path, destination: Path) -> Path:
    """Copy the requirements to `destination`, whose name must be their content's.

    The plan names the file when it is made; a file edited since then would otherwise be
    uploaded under the key of its old content.
    """
    content = requirements.read_bytes()
    if destination.name != file_name(content):
        raise ValueError(
            f"{requirements} changed after the deploy plan was made: its content is now "
            f"{file_name(content)}, not {destination.name}; run the deploy again"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(content)
    return destination
