"""Daily DynamoDB export → partitioned Parquet lake (Silver `tasks`, Gold stats tables).

Plain Python on purpose: the Airflow DAG imports these functions, so nothing here imports Airflow.
Each table is defined once, in etl/sql/; DuckDB runs it on the worker (etl/engines/duckdb.py) and
Athena above the worker's size (etl/athena_transform.py). pyarrow reads Parquet footers.
"""
