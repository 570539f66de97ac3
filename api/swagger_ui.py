"""Swagger UI served from the `flask-swagger-ui` package's dist files: no CDN, works offline.

Swagger UI 5 or later is needed to read an OpenAPI 3.1 document (4.x shows
"Unable to render this definition"). Only the package's static files are used;
the page itself is flask-smorest's.

The page gets a content security policy: scripts only from here and the page's own inline
script (allowed by its hash, computed from the page as served), requests only to this API,
and no framing by any other page (`frame-ancestors 'none'`), so an injected script cannot
send a pasted token elsewhere and the page cannot be overlaid for clickjacking.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.util import find_spec
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_from_directory

ASSETS_URL = "/docs/assets/"


def _package_dir(name: str) -> str:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(name)
    return str(spec.submodule_search_locations[0])


# The only files flask-smorest's page loads; packaging may drop the rest.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})
# Found without importing the package: its module reads its own version from the installed
# distributions (importlib.metadata) at import, a cost of every cold start for a path.
ASSETS_DIR = str(Path(_package_dir("flask_swagger_ui")) / "dist")
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"  # flask-smorest's page
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Swagger UI styles elements inline and draws its icons as data: images.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

blp = Blueprint("swagger_ui_assets", __name__)


@blp.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str) -> Response:
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(ASSETS_DIR, filename, max_age=86400)


def script_hashes(page: str) -> list[str]:
    """CSP sources for the page's inline scripts: `'sha256-…'` of each one's text."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(page)
    ]


@blp.after_app_request
def _docs_policy(response: Response) -> Response:
    if request.endpoint == DOCS_ENDPOINT and response.status_code == 200:
        scripts = " ".join(script_hashes(response.get_data(as_text=True)))
        response.headers["Content-Security-Policy"] = DOCS_POLICY.format(scripts=scripts)
        response.headers["X-Frame-Options"] = "DENY"  # browsers that predate frame-ancestors
    return response
