# --- data lake: orchestration ---
# Airflow lives in its own virtualenv, pinned like MWAA (Airflow 3.3.1 + its constraints), so it
# never leaks into the Lambda package or the dev venv. The DAG's dependencies come from
# dags/requirements.txt, the file MWAA installs; its --constraint line names MWAA's path, so the
# local install drops that line and passes the committed copy of the same constraints instead.
AIRFLOW_PYTHON ?= python3
AIRFLOW_VENV := .venv-airflow
AIRFLOW_CONSTRAINTS := dags/constraints-3.3.1.txt
DATE ?= $(shell date -u +%F)
LAKE_ROOT ?= .local/lake

.PHONY: airflow-venv etl airflow test-dags

airflow-venv: $(AIRFLOW_VENV)/.installed

$(AIRFLOW_VENV)/.installed: dags/requirements.txt tests/dags/requirements.txt $(AIRFLOW_CONSTRAINTS)
	test -x $(AIRFLOW_VENV)/bin/python || $(AIRFLOW_PYTHON) -m venv $(AIRFLOW_VENV)
	grep -v '^--constraint' dags/requirements.txt > $(AIRFLOW_VENV)/requirements-mwaa.txt
	$(AIRFLOW_VENV)/bin/pip install --quiet apache-airflow==3.3.1 \
		-r $(AIRFLOW_VENV)/requirements-mwaa.txt -r tests/dags/requirements.txt \
		-c $(AIRFLOW_CONSTRAINTS)
	touch $@

# Runs the real DAG once (`airflow dags test`) for DATE against DynamoDB Local (from `make run`)
# and moto (started here if not running), then mirrors the published lake to LAKE_ROOT.
etl: airflow-venv
	LAKE_ROOT=$(LAKE_ROOT) $(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local etl --date $(DATE)

# Airflow standalone on http://127.0.0.1:8080 (scheduler, API server, DAG processor, triggerer),
# with AIRFLOW_HOME in .local/airflow and dags/ as the DAGs folder.
airflow: airflow-venv
	$(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local standalone

test-dags: airflow-venv
	$(AIRFLOW_VENV)/bin/python -m pytest tests/dags
