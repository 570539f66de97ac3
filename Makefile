VENV ?= .venv

# --- data lake: transform ---
EXPORT ?= .local/export
OUT ?= .local/lake
DATE ?= $(shell date -u +%F)
N ?= 1000000
REPEAT ?= 1

.PHONY: transform bench-etl query

transform: ## transform a DynamoDB export folder into lake partitions: EXPORT=dir OUT=dir DATE=YYYY-MM-DD
	$(VENV)/bin/python -m etl.transform_cli "$(EXPORT)" "$(OUT)" "$(DATE)"

bench-etl: ## benchmark the transform against naive pandas and DuckDB on N synthetic tasks
	$(VENV)/bin/python -m tests.bench.etl_transform --tasks $(N) --repeat $(REPEAT)

query: ## run SQL over the local lake (LAKE_ROOT, default .local/lake): SQL='…' or FILE=docs/queries/x.sql
	@if [ -n "$(FILE)" ]; then $(VENV)/bin/python -m etl.query --file "$(FILE)"; \
	else $(VENV)/bin/python -m etl.query "$$SQL"; fi
