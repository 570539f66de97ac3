"""`make smoke STAGE=…`: a post-deploy check an operator runs in under two minutes.

One module per concern: where the stage is (`target`), the API round trip (`api_round_trip`),
the dashboard and alarms (`monitoring`), a DAG run (`orchestration`), one named lake query
(`lake_query`); `results` prints a line per check. The checks only read a `Target`; the local
stack and a deployed stage differ in where the target comes from, never inside a check.
"""
