# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both (re)build .venv from pyproject.toml when it is missing or older than pyproject.toml.
# The project has its own venv because its import name `coverage` shadows coverage.py.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ../shared/data
OUT    ?= out/yuzhong

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@if [ -d "$(DATA)/osm" ]; then \
	  $(BIN)/station-coverage assess \
	    --osm $(DATA)/osm/yuzhong_drive_osm_20260424.osm \
	    --boundary $(DATA)/osm/yuzhong_boundary_osm_relation4738525.geojson \
	    --stations $(DATA)/stations/yuzhong_stations_baseline.geojson \
	    --out $(OUT)/assess ; \
	else \
	  echo "$(DATA) not found: downloading Yuzhong from OpenStreetMap (online)"; \
	  $(BIN)/station-coverage assess --place "Yuzhong District, Chongqing, China" \
	    --stations osm --out $(OUT)/assess ; \
	fi

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/placement.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
