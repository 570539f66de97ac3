"""A versioned item's ETag is its version, so a write can hand the client's If-Match straight
to DynamoDB as a condition instead of reading the item first."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Exactly what ItemVersion.tag writes: ASCII digits, no leading zero, and short
# enough for a DynamoDB number (so `"v²"` or a 500-digit tag is stale, not an error).
VERSION_TAG = re.compile(r"v([1-9][0-9]{0,17})")


@dataclass(frozen=True)
class ItemVersion:
    """ETag data for a versioned item: the tag is the version number itself."""

    version: int

    @property
    def tag(self) -> str:
        return f"v{self.version}"
