"""Turn the zip `zappa package` writes into the artifact we deploy.

Zappa already leaves out what `exclude`/`exclude_glob` name in
zappa_settings.json. This step makes the rest deterministic and quick to start:

- shared libraries lose their symbol tables (`strip --strip-unneeded`, as
  Debian does for its own), which nothing at run time reads;
- bytecode is compiled once here (Python 3.12, like the runtime) as
  unchecked-hash .pyc under `/var/task`, because Lambda's code directory is
  read-only: without it every cold start recompiles every module it imports;
- `*.dist-info/METADATA` keeps its headers (name, version, requirements: all that
  `importlib.metadata` reads at run time) and loses the long description, the
  README each project ships there (~56 KB zipped of an 8 MiB budget);
- `package_info.json` loses Zappa's random uuid, build time and user;
- `zappa_settings.py` loses the region: Zappa writes the stage's `aws_region` into
  ENVIRONMENT_VARIABLES, and its handler copies those over the environment at start, so a zip
  built for one region would call DynamoDB and Cognito there wherever it runs. Lambda sets
  AWS_REGION itself, to the region the function runs in;
- Cognito's API model from the pinned botocore goes in `botocore-models/`, without its
  documentation strings (~21 KB zipped). AWS does not say which SDK a Lambda runtime ships
  ("depends on the runtime version and your AWS Region"), and GetTokensFromRefreshToken
  only exists in botocore from 2025-04-22 on. AWS_DATA_PATH (zappa_settings.json) puts the
  folder before the runtime's own models, so its botocore calls the operations ours knows;
- entries are sorted, dated 1980-01-01 and given fixed modes, so the same
  inputs give the same bytes.

Standard library only: it runs in the build virtualenv, which holds nothing else
of ours.

    python -m infra.package.artifact RAW_ZIP OUT_ZIP [--source-commit SHA]
"""

from __future__ import annotations

import argparse
import ast
import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

RUNTIME = (3, 12)
TASK_ROOT = "/var/task"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
# Variables Lambda sets for the region the function runs in; none may come from the build.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
ZAPPA_ENVIRONMENT = "ENVIRONMENT_VARIABLES="
# Services whose API model the package carries, and where (AWS_DATA_PATH names it on Lambda).
SHIPPED_MODELS = ("cognito-idp",)
MODELS_DIR = "botocore-models"


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def _compile(root: Path) -> None:
    """Write `__pycache__/*.cpython-312.pyc` next to every module, naming sources as on Lambda.

    A fresh isolated interpreter does it: marshal's output depends on what the
    compiling process has already imported, so compiling in-process is not
    reproducible.
    """
    command = [sys.executable, "-I", "-m", "compileall", "-q", "-q", "-j", "1"]
    command += ["-s", str(root), "-p", TASK_ROOT, "--invalidation-mode", "unchecked-hash"]
    if subprocess.run([*command, str(root)], check=False).returncode != 0:  # noqa: S603
        raise SystemExit("error: some modules of the package do not compile")


def _strip_shared_libraries(root: Path) -> None:
    strip = shutil.which("strip")
    if strip is None:
        raise SystemExit("error: `strip` is missing: install binutils")
    libraries = [str(path) for path in _files(root) if path.suffix == ".so"]
    if libraries:
        command = [strip, "--strip-unneeded", "--remove-section=.comment", *libraries]
        subprocess.run(command, check=True)  # noqa: S603 (our fixed command)


def _trim_distribution_metadata(root: Path) -> None:
    for metadata in root.glob("*.dist-info/METADATA"):
        headers, _blank, _description = metadata.read_text(encoding="utf-8").partition("\n\n")
        metadata.write_text(headers.rstrip("\n") + "\n", encoding="utf-8")


def _drop_build_region(root: Path) -> None:
    settings = root / "zappa_settings.py"
    lines = settings.read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines) if line.startswith(ZAPPA_ENVIRONMENT)]
    if len(found) != 1:
        raise SystemExit(f"error: {settings.name} has no single {ZAPPA_ENVIRONMENT} line")
    variables = ast.literal_eval(lines[found[0]].removeprefix(ZAPPA_ENVIRONMENT))
    kept = {name: value for name, value in variables.items() if name not in REGION_VARIABLES}
    lines[found[0]] = f"{ZAPPA_ENVIRONMENT}{kept!r}"
    settings.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _without_documentation(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: _without_documentation(item)
            for key, item in value.items()
            if key not in {"documentation", "documentationUrl"}
        }
    if isinstance(value, list):
        return [_without_documentation(item) for item in value]
    return value


def _ship_service_models(root: Path) -> None:
    """Write each SHIPPED_MODELS service's newest API model from the build's botocore."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        raise SystemExit("error: botocore is not installed in the build virtualenv")
    data = Path(spec.origin).parent / "data"
    for service in SHIPPED_MODELS:
        newest = max((data / service).iterdir())  # API versions are dates: YYYY-MM-DD
        model = json.loads(gzip.decompress((newest / "service-2.json.gz").read_bytes()))
        target = root / MODELS_DIR / service / newest.name / "service-2.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        compact = json.dumps(_without_documentation(model), separators=(",", ":"), sort_keys=True)
        target.write_text(compact + "\n", encoding="utf-8")


def _write_package_info(root: Path, source_commit: str) -> None:
    info = {"build_platform": "linux", "source_commit": source_commit}
    (root / "package_info.json").write_text(json.dumps(info, indent=4, sort_keys=True) + "\n")


def _zip(root: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in _files(root):
            entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=FIXED_DATE)
            entry.create_system = 3  # Unix, so Lambda honours the mode bits
            mode = 0o755 if path.suffix == ".so" else 0o644
            entry.external_attr = (0o100000 | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes(), compresslevel=9)
    os.replace(partial, out)


def finalize(raw: Path, out: Path, source_commit: str = "unknown") -> int:
    """Rebuild `raw` as `out`; returns the size of `out` in bytes."""
    if sys.version_info[:2] != RUNTIME:
        raise SystemExit(f"error: bytecode must be compiled by Python {RUNTIME[0]}.{RUNTIME[1]}")
    with tempfile.TemporaryDirectory(prefix="tasklake-package-") as temp:
        root = Path(temp)
        with zipfile.ZipFile(raw) as archive:
            archive.extractall(root)
        for stale in list(root.rglob("__pycache__")):
            shutil.rmtree(stale)
        _strip_shared_libraries(root)
        _trim_distribution_metadata(root)
        _drop_build_region(root)
        _ship_service_models(root)
        _write_package_info(root, source_commit)
        _compile(root)
        _zip(root, out)
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package.artifact")
    parser.add_argument("raw", type=Path, help="the zip `zappa package` wrote")
    parser.add_argument("out", type=Path, help="where to write the deployable zip")
    parser.add_argument("--source-commit", default="unknown")
    args = parser.parse_args(argv)
    size = finalize(args.raw, args.out, args.source_commit)
    print(f"{args.out}: {size / 1024 / 1024:.2f} MiB zipped ({size} bytes)")
    if size > LAMBDA_ZIP_LIMIT:
        print("error: over Lambda's 50 MiB limit for a zip upload", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
