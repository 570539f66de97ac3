"""Daily DynamoDB export → partitioned Parquet lake (Silver `tasks`, Gold stats tables).

Plain Python on purpose: the Airflow DAG imports these functions, so nothing here imports Airflow
and the only runtime dependency is pyarrow (pinned by the MWAA constraints).
"""
