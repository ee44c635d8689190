# KCBX: `make demo` and `make test` do all set-up from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

.PHONY: install demo test test-unit lint bench bench-ingest bench-readers bench-full bench-region clean serve stop bi bi-install docs

install: $(STAMP)

# Re-installs only when pyproject.toml or constraints.txt change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The interpreter's bundled pip and setuptools are old (known CVEs): upgrade them first.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt pip setuptools
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(BIN)/kcbx demo

# Superset's own virtualenv too: the BI tests start it. Two workers, a test module each
# (most of a test's time is PostgreSQL, dbt and browsers waiting on each other, so two
# modules side by side use a two-core machine fully); TEST_WORKERS=0 runs them in turn.
TEST_WORKERS ?= 2
test: install bi-install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: install
	$(BIN)/pytest -m unit

lint: install
	$(BIN)/ruff check kcbx dags tests bi bench
	$(BIN)/ruff format --check kcbx dags tests bi bench

# The real Airflow services (scheduler, dag-processor, triggerer, api-server; LocalExecutor,
# metadata in PostgreSQL). `make serve DEMO=1` first writes a demo county into a landing
# root that holds no term yet (its run then starts by itself); never without DEMO=1: the
# landing root may be production's.
serve: install
	$(BIN)/kcbx serve$(if $(filter 1,$(DEMO)), --demo)

# Superset in its own virtualenv (its pins cannot share .venv), the dashboards of bi/bundle/
# imported, serving on 127.0.0.1:8088 against the warehouse in use.
BI_STAMP := .venv-bi/.installed-$(shell cat bi/requirements.txt bi/constraints.txt | sha256sum | cut -c1-12)

$(BI_STAMP): bi/requirements.txt bi/constraints.txt
	@test -x .venv-bi/bin/python || $(PYTHON) -m venv .venv-bi
	.venv-bi/bin/python -m pip install --quiet --disable-pip-version-check -c bi/constraints.txt pip setuptools
	.venv-bi/bin/pip install --quiet --disable-pip-version-check -c bi/constraints.txt -r bi/requirements.txt
	@rm -f .venv-bi/.installed-*
	@touch $@

bi-install: $(BI_STAMP)

bi: install bi-install
	$(BIN)/kcbx bi start

# The data dictionary (reports/数据字典.html): every mart and column, lineage, no data.
docs: install
	$(BIN)/kcbx docs

stop: install
	$(BIN)/kcbx stop

clean:
	-$(BIN)/kcbx db stop
	rm -rf $(VENV) .kcbx reports dbt_project/target dbt_project/logs expectations/gx

# Ingest against plain COPY (a few minutes), the spreadsheet readers side by side (about 4
# minutes), then whole `kcbx run`s of 25k/50k/100k-child counties with a new-week rerun
# each (about 25 minutes on 2 cores).
bench: bench-ingest bench-readers bench-full

bench-ingest: install
	$(BIN)/python bench/ingest_bench.py

bench-readers: install
	$(BIN)/python bench/reader_bench.py

bench-full: install
	$(BIN)/python bench/full_run_bench.py

# A region of 3 counties x 25k children: `kcbx region run`, then the CeleryExecutor with two
# workers and with one (about 20 minutes; not part of `make bench`).
bench-region: install
	$(BIN)/python bench/region_bench.py --counties 3 --children 25000
