"""Swagger UI served from the `flask-swagger-ui` package's dist files: no CDN, works offline.

Swagger UI 5 or later is needed to read an OpenAPI 3.1 document (4.x shows
"Unable to render this definition"). Only the package's static files are used;
the page itself is flask-smorest's.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Response, abort, send_from_directory

ASSETS_URL = "/docs/assets/"
# The only files flask-smorest's page loads; packaging may drop the rest.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})
ASSETS_DIR = str(files("flask_swagger_ui") / "dist")

blp = Blueprint("swagger_ui_assets", __name__)


@blp.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str) -> Response:
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(ASSETS_DIR, filename, max_age=86400)
