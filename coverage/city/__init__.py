"""A whole city: many districts on one road network, cross-boundary cover, sweeps, Dask.

- :func:`read_districts`, :func:`check_districts`: the districts layer (name, code),
  overlaps (an error) and gaps (reported), with areas;
- :func:`city_network`, :func:`clip_osm`: one network for every district (a large PBF
  clipped by pyosmium, a local ``.osm``, or online);
- :func:`assess_city`: every district with every station (cross-boundary service),
  per-district figures ranked by gap to the standard; :func:`n_minus_1`;
- :func:`sweep_city`: grids over congestion, turnout, speed table, apparatus height;
- :func:`blocked_travel_time_matrix`: a large matrix in blocks of Dijkstra sources;
- :func:`open_runner`: serial, a ``LocalCluster``, or an existing Dask scheduler;
- :func:`write_city`: summary, tables, layer, map with click-through, report.
"""

from coverage.city.assess import CityAssessment, DistrictFigures, assess_city, n_minus_1
from coverage.city.blocks import blocked_travel_time_matrix
from coverage.city.districts import DistrictCheck, check_districts, district_of, read_districts
from coverage.city.network import city_network, clip_osm
from coverage.city.runner import Runner, open_runner
from coverage.city.sweep import SweepResult, sweep_city, sweep_grid
from coverage.city.write import write_city

__all__ = [
    "CityAssessment",
    "DistrictCheck",
    "DistrictFigures",
    "Runner",
    "SweepResult",
    "assess_city",
    "blocked_travel_time_matrix",
    "check_districts",
    "city_network",
    "clip_osm",
    "district_of",
    "n_minus_1",
    "open_runner",
    "read_districts",
    "sweep_city",
    "sweep_grid",
    "write_city",
]
