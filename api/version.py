"""The release version: the newest released heading of CHANGELOG.md.

The one place it is written. pyproject.toml reads it (`dynamic = ["version"]`) and the app
publishes it as the OpenAPI document's `info.version`. A constant rather than
importlib.metadata, because the Lambda package ships the code, not an installed distribution.
"""

__version__ = "0.1.0"
