"""Which engine runs etl/sql/ over a run's export: DuckDB on the worker, or Athena.

`auto` keeps an export on the worker up to ATHENA_THRESHOLD_ROWS items and sends a bigger one to
Athena. The threshold is the single-worker ceiling measured in docs/benchmarks.md ("Single-worker
ceiling"), on the smallest MWAA worker we deploy (mw1.small), with room to spare.
"""

from typing import Literal

Engine = Literal["duckdb", "athena"]
SETTINGS = ("duckdb", "athena", "auto")
ATHENA_THRESHOLD_ROWS = 10_000_000


def choose_engine(setting: str, item_count: int) -> Engine:
    """The engine for an export of `item_count` items: `setting` itself, or by size for `auto`."""
    if setting not in SETTINGS:
        raise ValueError(f"engine setting {setting!r} is not one of {', '.join(SETTINGS)}")
    if setting == "auto":
        return "athena" if item_count > ATHENA_THRESHOLD_ROWS else "duckdb"
    return "athena" if setting == "athena" else "duckdb"
