"""The engines that run the lake's one definition, etl/sql/: DuckDB on the worker, Athena at scale.

Each adapter runs the same statement text; what differs between the two dialects is handled in
etl/engines/duckdb.py (`to_duckdb`), and nowhere else.
"""

ZSTD_LEVEL = 1
"""Parquet's zstd level in both engines: level 3+ shrinks the tasks by under 1 % for ~20 % more
write time."""
