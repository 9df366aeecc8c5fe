"""Siting new stations for a whole city.

Two modes:

- ``"per_district"`` (**the default**): each district gets its own model, with
  every existing station of the city fixed, its own as well as its neighbours', and
  only its own candidate sites. Why the default: the work plan asks every district to
  draw up its own fire plan, so the number of new stations is a district's figure
  and its budget; neighbours' stations still count where they arrive first
  (cross-boundary service is in each model as fixed columns); the models are
  independent, so they run in parallel on Dask; and each stays district-sized,
  where the exact models prove optimality (one city-wide model is the size at which
  issue 11 measured them breaking). Its blind spot: two districts may both site
  next to their shared line, since neither sees the other's new sites. The final
  city assessment with every new site measures the combined result.
- ``"city"``: one model over the whole city and all candidates, ``p`` new stations
  in total, for a city office that allocates stations across district lines.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from coverage.assess.demand import DEFAULT_STEP_M, SNAP, DemandSet
from coverage.city.assess import CityAssessment, assess_city
from coverage.city.runner import Runner
from coverage.engine import RoadIndex, build_index
from coverage.errors import InputError
from coverage.network.model import RoadNetwork
from coverage.optimise import SolveOptions
from coverage.siting import site_stations

__all__ = ["SITING_MODES", "CitySiting", "site_city"]

SITING_MODES = ("per_district", "city")


@dataclass(frozen=True)
class CitySiting:
    """Result of :func:`site_city`.

    Attributes
    ----------
    mode : str
    models : DataFrame
        One row per model solved (per district, or one for the city): ``district``,
        ``model``, ``status``, ``objective``, ``bound``, ``gap``, ``new_sites``,
        ``coverage_before``, ``coverage_after`` (within that model's area), ``seconds``.
    new_sites : GeoDataFrame
        Every chosen site (network CRS), with ``district`` (code).
    after : CityAssessment
        The whole city assessed with today's stations plus every new site.
    """

    mode: str
    models: pd.DataFrame
    new_sites: gpd.GeoDataFrame
    after: CityAssessment


def siting_task(item: tuple[str, Any, gpd.GeoDataFrame, int], *, network: RoadNetwork,
                index: RoadIndex, stations: gpd.GeoDataFrame, model: str, standard: str,
                options: SolveOptions, new_type: str, small_station_rules: bool) -> dict:
    """Solve one siting model: ``item = (label, area polygon, candidates, p)``."""
    label, area, cands, p = item
    start = time.perf_counter()
    # Road samples snapped to their road, as in the city assessment (see district_task).
    demand = DemandSet.from_roads(index, area, step_m=DEFAULT_STEP_M, access=SNAP)
    run = site_stations(replace(network, boundary=area), stations, model=model, p=p,
                        candidates=cands, standard=standard, new_type=new_type,
                        options=options, small_station_rules=small_station_rules, index=index,
                        demand=demand)
    res = run.result
    return {
        "row": {"district": label, "model": res.model, "status": res.status,
                "message": res.message, "objective": res.objective, "bound": res.bound, "gap": res.gap,
                "new_sites": len(run.new_sites),
                "coverage_before": run.before.metrics["coverage_share"],
                "coverage_after": run.after.metrics["coverage_share"],
                "rule_violations": len(run.violations),
                "seconds": time.perf_counter() - start},
        "new_sites": run.new_sites.assign(district=label),
    }


def unsolved_notes(models: pd.DataFrame, names: Mapping[str, str] | None = None) -> list[str]:
    """Why the models that did not end optimal ended as they did, one line per reason.

    Parameters
    ----------
    models : pandas.DataFrame
        :attr:`CitySiting.models` (columns ``district``, ``status``, ``message``).
    names : mapping, optional
        District code → name, so that planners read names, not codes.

    Returns
    -------
    list of str
        ``"<status> in <districts>: <message>"``, districts with the same status and
        reason on one line; empty when every model is optimal.
    """
    names = names or {}
    rest = models[models["status"] != "optimal"]
    lines = []
    for (status, message), group in rest.groupby(["status", "message"], sort=False):
        who = ", ".join(str(names.get(str(d), d)) for d in group["district"])
        lines.append(f"{status} in {who}: {message}")
    return lines


def site_city(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int,
    model: str = "mclp",
    mode: str = "per_district",
    standard: str = "gb51080",
    new_type: str = "small",
    small_station_rules: bool = True,
    options: SolveOptions | None = None,
    runner: Runner | None = None,
    index: RoadIndex | None = None,
) -> CitySiting:
    """Site ``p`` new stations per district (default) or ``p`` for the whole city.

    Parameters
    ----------
    network, stations, districts
        As for :func:`~coverage.city.assess.assess_city`.
    candidates : GeoDataFrame
        Candidate sites (any CRS) with ``id``; each belongs to the district it lies in.
    p : int
        New stations per district (``per_district``) or in total (``city``).
    model : str
        A :data:`coverage.optimise.MODELS` key (``mclp`` default).
    mode : {"per_district", "city"}
        See the module docstring for why ``per_district`` is the default.
    options : SolveOptions, optional
        Solver, time limit per model, gap.

    Returns
    -------
    CitySiting
    """
    if mode not in SITING_MODES:
        raise InputError(f"unknown siting mode {mode!r}.", source="[site] mode",
                         fix=f"use {' or '.join(SITING_MODES)}.")
    runner = runner or Runner(progress=False)
    index = index or build_index(network)
    options = options or SolveOptions()
    dm = districts.to_crs(network.crs).reset_index(drop=True)
    cands = candidates.to_crs(network.crs).reset_index(drop=True)
    xy = shapely.get_coordinates(cands.geometry.values)
    if mode == "city":
        union = shapely.union_all(dm.geometry.to_numpy())
        inside = shapely.contains_xy(union, xy[:, 0], xy[:, 1])
        items = [("city", union, cands[inside], p)]
        labels = ["whole city"]
    else:
        items, labels = [], []
        for code, name, geom in zip(dm["code"], dm["name"], dm.geometry, strict=True):
            own = cands[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
            if len(own) == 0:
                raise InputError(f"district {name} ({code}) has no candidate site.",
                                 source="candidates",
                                 fix="give candidates in every district, or site with mode = 'city'.")
            items.append((str(code), geom, own, p))
            labels.append(str(name))
    # The network without its graph (the models use the road index), the copy the city
    # assessment sent to the workers.
    shared = {"network": runner.share(replace(network, graph=None), like=network,
                                      part="without graph"),
              "index": runner.share(index),
              "stations": stations, "model": model, "standard": standard, "options": options,
              "new_type": new_type, "small_station_rules": small_station_rules}
    results = runner.map(siting_task, items, labels, desc="siting", shared=shared)
    new_sites = gpd.GeoDataFrame(pd.concat([r["new_sites"] for r in results], ignore_index=True),
                                 geometry="geometry", crs=network.crs)
    st = stations.to_crs(network.crs)
    keep = [c for c in st.columns if c in new_sites.columns]
    combined = gpd.GeoDataFrame(pd.concat([st[keep], new_sites[keep]], ignore_index=True),
                                geometry="geometry", crs=network.crs)
    after = assess_city(network, combined, districts, standard=standard, runner=runner,
                        index=index)
    return CitySiting(mode, pd.DataFrame([r["row"] for r in results]), new_sites, after)
