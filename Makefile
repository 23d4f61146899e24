# Two commands for a newcomer:  `make demo`  (set up + run the whole demo city)  and  `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/python -m orchestration.lib.dbt_project  # parse the dbt project once, so Dagster loads in seconds
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/citystat demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The Dagster UI on http://127.0.0.1:3000, on the same instance `citystat run` records its runs in
ui: $(STAMP)
	$(BIN)/python -m orchestration.lib.instance  # DAGSTER_HOME with its dagster.yaml (pools, run monitoring)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} $(BIN)/dagster dev -h 127.0.0.1 -p 3000

clean:
	rm -rf $(VENV) var warehouse .dagster_home
