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

YUZHONG := --osm $(DATA)/osm/yuzhong_drive_osm_20260424.osm \
	--boundary $(DATA)/osm/yuzhong_boundary_osm_relation4738525.geojson \
	--stations $(DATA)/stations/yuzhong_stations_baseline.geojson
ONLINE  := --place "Yuzhong District, Chongqing, China" --stations osm

# The main job: assess today's stations, then site two new small stations (p-center, exact).
demo: $(STAMP)
	@if [ -d "$(DATA)/osm" ]; then SRC='$(YUZHONG)'; else \
	  echo "$(DATA) not found: downloading Yuzhong from OpenStreetMap (online)"; SRC='$(ONLINE)'; fi; \
	eval $(BIN)/station-coverage assess $$SRC --out $(OUT)/assess && \
	eval $(BIN)/station-coverage site $$SRC --model pcenter --new 2 --time-limit 300 --out $(OUT)/site
	@echo "demo outputs: $(OUT)/assess and $(OUT)/site (open map.html and report.html)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/placement.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
