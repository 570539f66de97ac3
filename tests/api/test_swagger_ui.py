"""Swagger UI as a person sees it: /docs rendered by headless Chromium, offline.

The app is served on a free loopback port; Chromium loads /docs, runs its
JavaScript, and dumps the rendered DOM. Its net log lists every request and who
initiated it, so the test also proves that the page asked for nothing but our
server. Chromium itself still pings its updater whatever the flags; as a guard,
no host name but the loopback resolves and anything proxied goes to a closed
local port, so neither it nor a regression of ours can reach the network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.harness import serving

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--no-default-browser-check",
    # Chromium's own background fetches (network time, variations, updates):
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    "--disable-field-trial-config",
    # Guards: no host name but the loopback resolves, and anything proxied hits a closed
    # local port (loopback itself is never proxied).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    # The page's console (CSP refusals included) on stderr.
    "--enable-logging=stderr",
    "--v=0",
]
EXPECTED_PATHS = {
    "/tasks",
    "/tasks/{task_id}",
    "/users",
    "/users/{user_id}",
    "/auth/token",
    "/auth/refresh",
    "/auth/logout",
    "/health",
}


class Operations(HTMLParser):
    """The (method, path) of every operation block Swagger UI rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = 0
        self.paths: set[str] = set()
        self.version_errors = 0

    def handle_starttag(self, _tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "opblock" in classes:
            self.blocks += 1
        if "opblock-summary-path" in classes and attributes.get("data-path"):
            self.paths.add(str(attributes["data-path"]))
        if "version-pragma__message--missing" in classes:
            self.version_errors += 1


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "Chromium is not installed; `make browser` installs it (Debian's `chromium`)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@dataclass(frozen=True)
class Request:
    url: str
    initiator: str  # an origin for requests a page made; "not an origin" for Chromium's own


def started_requests(net_log: Path) -> list[Request]:
    """Every request Chromium started, from its JSON net log."""
    log: dict[str, Any] = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        Request(event["params"]["url"], event["params"].get("initiator", "not an origin"))
        for event in log["events"]
        if event["type"] == start_job and "url" in event.get("params", {})
    ]


@pytest.fixture(scope="module")
def rendered(
    base_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[Request], str]:
    browser = chromium()
    workdir = tmp_path_factory.mktemp("chromium")
    net_log = workdir / "net-log.json"
    completed = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={workdir / 'profile'}",
            f"--log-net-log={net_log}",
            "--dump-dom",
            "--virtual-time-budget=15000",
            f"{base_url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout, started_requests(net_log), completed.stderr


def test_docs_render_every_operation(rendered: tuple[str, list[Request], str]) -> None:
    dom, _, _ = rendered
    operations = Operations()
    operations.feed(dom)

    assert operations.version_errors == 0, "Swagger UI could not read the spec's version"
    assert operations.paths >= EXPECTED_PATHS, sorted(operations.paths)
    assert operations.blocks >= 14  # one per operation in the spec


def test_the_page_asks_nothing_of_any_server_but_ours(
    rendered: tuple[str, list[Request], str], base_url: str
) -> None:
    _, requests, _ = rendered
    page = {request.url for request in requests if request.initiator == base_url}

    assert f"{base_url}/openapi.json" in page
    assert f"{base_url}/docs/assets/swagger-ui-bundle.js" in page
    assert {url for url in page if urlsplit(url).netloc != urlsplit(base_url).netloc} == set()


def test_the_page_runs_within_its_content_security_policy(
    rendered: tuple[str, list[Request], str], app: Flask
) -> None:
    # https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy
    policy = app.test_client().get("/docs").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    _, _, console = rendered

    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["connect-src"] == "'self'"
    assert "Content Security Policy" not in console  # Chromium logs every refusal
