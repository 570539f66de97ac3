"""A stand-in for MWAA's two CLI endpoints, which no local engine (moto included) serves.

- CreateCliToken (`POST /clitoken/<environment>`), reached through AWS_ENDPOINT_URL_MWAA with
  AWS_DISABLE_HOST_PREFIX_INJECTION=true (botocore otherwise sends it to `env.<host>`);
- the webserver's `POST /aws_mwaa/cli`: a plain-text Airflow command with the token as Bearer,
  answered as MWAA answers, JSON with stdout and stderr base64-encoded. `dags trigger` prints
  the new run as Airflow 3's `--output json` does; anything else goes to stderr.

Both on one HTTPS port (the smoke reaches the webserver as https://<host>) with a self-signed
certificate for 127.0.0.1, which the client trusts through AWS_CA_BUNDLE/REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import secrets
import shlex
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "mwaa.crt", folder / "mwaa.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class MwaaStandIn:
    url: str
    certificate: Path
    environment: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    commands: list[str] = field(default_factory=list)

    def answer_cli(self, command: str) -> dict[str, str]:
        self.commands.append(command)
        argv = shlex.split(command)
        stdout, stderr = "", f"airflow: unsupported command {command!r}\n"
        if argv[:2] == ["dags", "trigger"] and "--run-id" in argv:
            stdout, stderr = _triggered(argv), ""
        return {
            "stdout": base64.b64encode(stdout.encode()).decode(),
            "stderr": base64.b64encode(stderr.encode()).decode(),
        }


def _triggered(argv: list[str]) -> str:
    run_id = argv[argv.index("--run-id") + 1]
    logical, start, end = None, None, None
    if "--logical-date" in argv:
        logical = datetime.datetime.fromisoformat(argv[argv.index("--logical-date") + 1])
        midnight = datetime.datetime.combine(logical.date(), datetime.time(), datetime.UTC)
        start, end = str(midnight - datetime.timedelta(days=1)), str(midnight)
    run: dict[str, object] = {
        "conf": {}, "dag_id": argv[2], "dag_run_id": run_id, "data_interval_start": start,
        "data_interval_end": end, "logical_date": logical and str(logical),
        "run_type": "manual", "state": "queued",
    }  # fmt: skip
    return f"[info     ] creating dag run run_id={run_id}\n{json.dumps([run])}\n"


def _handler(stand_in: MwaaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            if self.path == f"/clitoken/{stand_in.environment}":
                host = stand_in.url.removeprefix("https://")
                self._json(200, {"CliToken": stand_in.token, "WebServerHostname": host})
            elif self.path.startswith("/clitoken/"):
                self._json(404, {"message": "Environment not found"})
            elif self.path != "/aws_mwaa/cli":
                self._json(404, {"message": "not found"})
            elif self.headers.get("Authorization") != f"Bearer {stand_in.token}":
                self._json(403, {"message": "Forbidden"})
            else:
                self._json(200, stand_in.answer_cli(body))

        def _json(self, status: int, body: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def mwaa_stand_in(folder: Path, environment: str) -> Iterator[MwaaStandIn]:
    certificate, key = self_signed_certificate(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    stand_in = MwaaStandIn(f"https://127.0.0.1:{server.server_port}", certificate, environment)
    server.RequestHandlerClass = _handler(stand_in)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
