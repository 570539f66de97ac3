"""Find the data files of a DynamoDB export (DYNAMODB_JSON, gzipped JSON lines).

Each line is `{"Item": {<attribute>: {<type descriptor>: value}}}`; the lake's SQL reads them
(etl/sql/tasks.sql, run by etl/transform.py).
"""

from pathlib import Path


class ExportFormatError(ValueError):
    """A line that is valid JSON but not a tasks-table item, so the export cannot be trusted."""


def find_export_files(export_dir: Path) -> list[Path]:
    """Data files of an export folder, in a stable order (`data/*.json.gz` at any depth)."""
    if not export_dir.is_dir():
        raise FileNotFoundError(f"export folder not found: {export_dir}")
    files = sorted(export_dir.glob("**/data/*.json.gz"))
    if not files:
        raise FileNotFoundError(f"no data/*.json.gz files under {export_dir}")
    return files
