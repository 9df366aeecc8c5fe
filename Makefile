# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both (re)build .venv from pyproject.toml when it is missing or older than pyproject.toml or
# constraints.txt, installing the exact versions the tests passed on (constraints.txt).
# `make test-latest` builds .venv-latest with the newest versions pyproject.toml allows, so an
# upstream break shows up here before users meet it.
# The project has its own venv because its import name `coverage` shadows coverage.py.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ../shared/data
OUT    ?= out/yuzhong

LATEST := .venv-latest

.PHONY: demo micro-demo test test-latest lock lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

YUZHONG := --osm $(DATA)/osm/yuzhong_drive_osm_20260424.osm \
	--boundary $(DATA)/osm/yuzhong_boundary_osm_relation4738525.geojson \
	--stations $(DATA)/stations/yuzhong_stations_baseline.geojson
# High-rise reach (GB 50016 heights, aerial apparatus) from the OSM buildings extract.
HIGHRISE := --buildings $(DATA)/osm/yuzhong_buildings_osm_20260426.osm
ONLINE  := --place "Yuzhong District, Chongqing, China" --stations osm

# The main job: assess today's stations, then site two new small stations (p-center, exact).
demo: $(STAMP)
	@if [ -d "$(DATA)/osm" ]; then SRC='$(YUZHONG)'; HR='$(HIGHRISE)'; else \
	  echo "$(DATA) not found: downloading Yuzhong from OpenStreetMap (online)"; SRC='$(ONLINE)'; HR=''; fi; \
	eval $(BIN)/station-coverage assess $$SRC $$HR --out $(OUT)/assess && \
	eval $(BIN)/station-coverage site $$SRC --model pcenter --new 2 --time-limit 300 --out $(OUT)/site
	@echo "demo outputs: $(OUT)/assess and $(OUT)/site (open map.html and report.html)"

MICRO := --walk-osm $(DATA)/osm/yuzhong_walk_osm_20260426.osm \
	--boundary $(DATA)/osm/yuzhong_boundary_osm_relation4738525.geojson \
	--buildings $(DATA)/osm/yuzhong_buildings_osm_20260426.osm \
	--drive-osm $(DATA)/osm/yuzhong_drive_osm_20260424.osm \
	--stations $(DATA)/stations/yuzhong_stations_baseline.geojson

# Micro fire stations on the real Yuzhong walk network, proposed from scratch (no public positions):
# the fewest community stations reaching every building in 1 + 3 min (LSCP), then the best 79
# (the district's count of community micro stations, MCLP).
micro-demo: $(STAMP)
	$(BIN)/station-coverage micro $(MICRO) --propose --model lscp --out $(OUT)/micro-lscp
	$(BIN)/station-coverage micro $(MICRO) --propose --model mclp --new 79 --out $(OUT)/micro-mclp79
	@echo "micro outputs: $(OUT)/micro-lscp and $(OUT)/micro-mclp79 (open map.html and report.html)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# The newest versions pyproject.toml allows, in a venv of their own (never the pinned one).
test-latest:
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test,bench]'
	$(LATEST)/bin/python -m pip list --format=freeze | grep -iE '^(highspy|pulp|osmnx|geopandas|shapely|numpy|scipy|pandas|folium|networkx)=='
	$(LATEST)/bin/ruff check .
	$(LATEST)/bin/python -m pytest -q

# Pin what .venv-latest just passed on (run after make test-latest).
lock:
	{ echo "# Exact versions the test suite passed on (Python 3.11, Linux x86_64), $$(date -u +%F)."; \
	  echo "# make demo / make test install with -c constraints.txt; make test-latest ignores it."; \
	  echo "# Refresh: make lock (after make test-latest passes)."; \
	  $(LATEST)/bin/python -m pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/placement.py
	$(BIN)/python benchmarks/micro.py

clean:
	rm -rf $(VENV) $(LATEST) out .pytest_cache .ruff_cache
