"""Daily DynamoDB export → partitioned Parquet lake (Silver `tasks`, Gold stats tables).

Plain Python on purpose: the Airflow DAG imports these functions, so nothing here imports Airflow
and the only runtime dependency is pyarrow (pinned by the MWAA constraints).
"""

import os

# Arrow's C++ allocations come from the pool this names, read once at the first allocation, so it
# is set before any module of this package imports pyarrow. jemalloc gives freed pages back to the
# system sooner than the default mimalloc, which keeps what the transform's many short-lived
# bucket tables freed: 4M tasks with free-form tags peak at 412 MiB instead of 515
# (docs/benchmarks.md). A process that chose a pool itself keeps it; a pyarrow built without
# jemalloc warns and keeps its default.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
