"""City assessment: every district on one road network, with cross-boundary service.

Every station serves wherever it arrives first, whatever the district line: each
district is assessed with :func:`coverage.assess.assess` on the whole city's road
network and with the stations of *every* district, so a demand point's first-due
station may belong to a neighbour. Per-district figures add the share of the
district's demand first served from outside it.

Districts are independent tasks (one :func:`assess` each) and run on a
:class:`~coverage.city.runner.Runner`: serially, or on Dask with the network and its
index scattered once to every worker. The result does not depend on the runner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.assess import Assessment, assess
from coverage.assess.metrics import response_metrics
from coverage.city.districts import DistrictCheck, check_districts, district_of
from coverage.city.runner import Runner
from coverage.engine import RoadIndex, build_index
from coverage.errors import InputError
from coverage.network.model import RoadNetwork
from coverage.presets import ResponseStandard, response_standard

__all__ = ["CityAssessment", "assess_city", "district_task", "n_minus_1", "n_minus_1_table",
           "road_length_m"]


@dataclass(frozen=True)
class CityAssessment:
    """Result of :func:`assess_city`.

    Attributes
    ----------
    standard : ResponseStandard
    metrics : dict
        City-wide :func:`~coverage.metrics.response_metrics` over every district's demand,
        plus ``served_from_outside_share``.
    districts : GeoDataFrame
        One row per district (network CRS), ranked by gap to the standard: ``rank``,
        ``code``, ``name``, ``area_km2``, ``stations``, ``demand_weight``,
        ``coverage_share``, ``second_due_coverage_share``, ``first_due_p50_s``,
        ``first_due_p90_s``, ``first_due_max_s``, ``response_p90_s``,
        ``served_from_outside_share``, ``required_share``, ``gap_to_standard_pp``,
        ``compliant``, ``over_cap_stations``, ``seconds``.
    stations : GeoDataFrame
        One row per station (network CRS): ``id``, ``name``, ``type``, ``district``
        (where it stands), ``district_km2`` (its first-due area summed over districts),
        ``area_cap_km2``, ``over_cap``, ``demand_weight``, ``max_first_due_s``,
        ``districts_served``.
    by_district : dict of str to Assessment
        Each district's own assessment, by code.
    check : DistrictCheck
        Overlaps and gaps of the districts layer.
    network : RoadNetwork
    index : RoadIndex
    events : list of str
        Worker deaths and retries during the run.
    runner : str
        Where it ran.
    """

    standard: ResponseStandard
    metrics: dict
    districts: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    by_district: dict[str, Assessment]
    check: DistrictCheck
    network: RoadNetwork
    index: RoadIndex
    events: list[str] = field(default_factory=list)
    runner: str = "serial (in process)"

    def summary(self) -> dict:
        """The city ``summary.json`` content."""
        graph = self.network.graph
        cols = [c for c in self.districts.columns if c != "geometry"]
        rows = self.districts[cols].replace({np.nan: None}).to_dict(orient="records")
        return {
            "generated_network": bool(graph.graph.get("generated", False)),
            "network_source": self.network.report.source if self.network.report else None,
            "standard": self.standard.name,
            "standard_clause": self.standard.clause,
            "turnout_s": self.standard.turnout_s,
            "travel_threshold_s": self.standard.travel_threshold_s,
            "cross_boundary_service": True,
            **self.metrics,
            "districts": rows,
            "stations": int(len(self.stations)),
            "stations_over_cap": int(self.stations["over_cap"].sum()),
            "district_layer_check": self.check.as_dict(),
            "network": {"nodes": int(graph.number_of_nodes()), "edges": int(graph.number_of_edges()),
                        "crs": self.network.crs.to_string(),
                        "report": self.network.report.as_dict() if self.network.report else None},
            "runner": self.runner,
            "events": list(self.events),
        }


def district_task(item: tuple[str, Any], *, network: RoadNetwork, index: RoadIndex,
                  stations: gpd.GeoDataFrame, standard: ResponseStandard,
                  step_m: float) -> tuple[Assessment, float]:
    """Assess one district (``item = (code, polygon in network CRS)``) with every station.

    Returns the :class:`Assessment` without its network and index (the caller has
    them), so that only the district's own results travel back from a worker, and
    the seconds it took.
    """
    _, polygon = item
    start = time.perf_counter()
    # Road samples snapped to their own road (access="snap"). The land model costs 9-160 s per
    # real district on the 15k generated city (528 s for the nine, most of it the no-access land
    # beyond the generated roads: benchmarks/access_model.py --city 15k --districts), over the
    # 3-minute city goal; `assess` per district gives land figures.
    result = assess(replace(network, boundary=polygon), stations, standard=standard,
                    step_m=step_m, index=index, access="snap")
    return replace(result, network=None, index=None), time.perf_counter() - start


def road_length_m(index: RoadIndex, districts_m: gpd.GeoDataFrame) -> np.ndarray:
    """Length of road (m) touching each district: the expected work of its task.

    Raises
    ------
    InputError
        Naming every district with no road inside it.
    """
    lengths = np.array([index.seg_length_m[index.tree.query(g, predicate="intersects")].sum()
                        for g in districts_m.geometry])
    empty = [f"{n} ({c})" for n, c, m in zip(districts_m["name"], districts_m["code"], lengths,
                                             strict=True) if m == 0]
    if empty:
        raise InputError(
            f"no road of the network lies inside district {', '.join(empty)}.",
            source="districts",
            fix="use a road extract that covers every district (a larger .osm.pbf, or a "
            "larger buffer), or check that the districts layer and the roads are in the "
            "same place (WGS84, not GCJ-02).",
        )
    return lengths


def assess_city(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    standard: str | ResponseStandard = "gb51080",
    step_m: float = 50.0,
    runner: Runner | None = None,
    index: RoadIndex | None = None,
    allow_overlaps: bool = False,
) -> CityAssessment:
    """Assess every district of a city on one network, with cross-boundary service.

    Parameters
    ----------
    network : RoadNetwork
        The whole city's roads (see :func:`coverage.city.network.city_network`).
    stations : GeoDataFrame
        The stations of every district (any CRS), as :func:`coverage.layers.read_stations`
        returns them.
    districts : GeoDataFrame
        From :func:`coverage.city.districts.read_districts`: ``name``, ``code``, polygons.
    standard : str or ResponseStandard
    step_m : float
        Road demand spacing, m.
    runner : Runner, optional
        Serial by default; pass :func:`~coverage.city.runner.open_runner`'s for Dask.
    index : RoadIndex, optional
        Reuse an index of ``network``.
    allow_overlaps : bool
        Report overlapping districts instead of raising.

    Returns
    -------
    CityAssessment

    Raises
    ------
    InputError
        Overlapping districts; a district with no road inside it.
    """
    std = response_standard(standard) if isinstance(standard, str) else standard
    runner = runner or Runner(progress=False)
    check = check_districts(districts, network.crs, allow_overlaps=allow_overlaps)
    districts_m = districts.to_crs(network.crs).reset_index(drop=True)
    index = index or build_index(network)
    cost = road_length_m(index, districts_m)
    items = list(zip(districts_m["code"], districts_m.geometry, strict=True))
    shared = {"network": runner.share(network), "index": runner.share(index),
              "stations": stations, "standard": std, "step_m": float(step_m)}
    results = runner.map(district_task, items, list(districts_m["name"]), desc="districts",
                         shared=shared, cost=cost)
    by_district = {str(code): replace(a, network=network, index=index)
                   for code, (a, _) in zip(districts_m["code"], results, strict=True)}
    seconds = {str(code): s for code, (_, s) in zip(districts_m["code"], results, strict=True)}
    return _combine(std, districts_m, by_district, seconds, check, network, index, runner)


def _combine(std, districts_m, by_district, seconds, check, network, index,
             runner) -> CityAssessment:
    first = next(iter(by_district.values()))
    st = first.stations
    home = district_of(shapely.get_coordinates(st.geometry.values), districts_m)
    st_ids = st["id"].astype(str).to_numpy()
    home_of = dict(zip(st_ids, home, strict=True))
    rows, w_all, f_all, s_all, out_all = [], [], [], [], []
    km2 = np.zeros(len(st))
    weight = np.zeros(len(st))
    worst = np.full(len(st), np.nan)
    served = np.zeros(len(st), dtype=int)
    for code, name, geom in zip(districts_m["code"], districts_m["name"], districts_m.geometry,
                                strict=True):
        a = by_district[str(code)]
        dem = a.demand
        w = dem["weight"].to_numpy(float)
        outside = np.array([home_of.get(s, "") != str(code) if s is not None else False
                            for s in dem["first_due_station"]])
        km2 += np.nan_to_num(a.stations["district_km2"].to_numpy(float))
        weight += a.stations["demand_weight"].to_numpy(float)
        worst = np.fmax(worst, a.stations["max_first_due_s"].to_numpy(float))
        served += a.stations["demand_weight"].to_numpy(float) > 0
        w_all.append(w)
        f_all.append(dem["first_due_s"].to_numpy(float))
        s_all.append(dem["second_due_s"].to_numpy(float))
        out_all.append(outside)
        m = a.metrics
        in_district = home == str(code)
        rows.append({
            "code": str(code), "name": str(name),
            "area_km2": float(shapely.area(geom) / 1e6),
            "stations": int(in_district.sum()),
            "demand_points": int(len(dem)),
            "demand_weight": float(w.sum()),
            "coverage_share": m["coverage_share"],
            "second_due_coverage_share": m["second_due_coverage_share"],
            "first_due_p50_s": m["first_due_p50_s"],
            "first_due_p90_s": m["first_due_p90_s"],
            "first_due_max_s": m["first_due_max_s"],
            "response_p90_s": m["response_p90_s"],
            "served_from_outside_share": float(w[outside].sum() / w.sum()) if w.sum() else 0.0,
            "required_share": std.percentile,
            "gap_to_standard_pp": max(0.0, std.percentile - m["coverage_share"]) * 100,
            "compliant": m["compliant"],
        })
    caps = st["area_cap_km2"].to_numpy(float) if "area_cap_km2" in st else np.full(len(st), np.nan)
    over = km2 > caps
    stations = gpd.GeoDataFrame({
        "id": st_ids, "name": st["name"].to_numpy(), "type": st["type"].to_numpy(),
        "district": home, "district_km2": km2, "area_cap_km2": caps, "over_cap": over,
        "demand_weight": weight, "max_first_due_s": worst, "districts_served": served,
    }, geometry=st.geometry.values, crs=st.crs)
    table = pd.DataFrame(rows)
    table["over_cap_stations"] = [int((over & (home == c)).sum()) for c in table["code"]]
    table["seconds"] = [round(seconds[c], 3) for c in table["code"]]
    order = table.sort_values(["gap_to_standard_pp", "coverage_share", "code"],
                              ascending=[False, True, True], kind="stable").index
    table.loc[order, "rank"] = np.arange(1, len(table) + 1)
    table["rank"] = table["rank"].astype(int)
    gdf = gpd.GeoDataFrame(table, geometry=districts_m.geometry.values, crs=districts_m.crs)
    gdf = gdf.loc[order].reset_index(drop=True)
    gdf = gdf[["rank", *[c for c in gdf.columns if c not in ("rank", "geometry")], "geometry"]]
    w, f, s, o = (np.concatenate(x) for x in (w_all, f_all, s_all, out_all))
    metrics = response_metrics(w, f, s, std)
    metrics["served_from_outside_share"] = float(w[o].sum() / w.sum()) if w.sum() else 0.0
    metrics["districts_compliant"] = int(gdf["compliant"].sum())
    return CityAssessment(std, metrics, gdf, stations, by_district, check, network, index,
                          list(runner.events), runner.description)


def n_minus_1(city: CityAssessment) -> pd.DataFrame:
    """Close each station in turn and rank stations by the coverage lost (N-1 resilience).

    With station ``i`` closed, the demand it serves first falls to its second-due
    station (the best of the others), so the coverage lost is the weight first served
    by ``i`` within the threshold whose second-due time is beyond it. Exact, from the
    assessment's first/second-due times; no new routing.

    Returns
    -------
    DataFrame
        One row per station, most critical first: ``rank``, ``id``, ``name``, ``district``,
        ``coverage_lost_share`` (of the city's demand weight), ``coverage_lost_pp``,
        ``coverage_without_share``, ``worst_district`` (name) and its
        ``worst_district_lost_pp``.
    """
    st = city.stations
    pos = {s: i for i, s in enumerate(st["id"].astype(str))}
    demand = {}
    for code, a in city.by_district.items():
        dem = a.demand
        who = np.array([pos.get(s, -1) if s is not None else -1
                        for s in dem["first_due_station"]], dtype=np.int64)
        demand[code] = (dem["weight"].to_numpy(float), dem["first_due_s"].to_numpy(float),
                        dem["second_due_s"].to_numpy(float), who)
    names = dict(zip(city.districts["code"], city.districts["name"], strict=True))
    return n_minus_1_table(st, city.standard.travel_threshold_s, demand, names)


def n_minus_1_table(stations: pd.DataFrame, threshold_s: float,
                    demand: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                    district_names: dict[str, str]) -> pd.DataFrame:
    """:func:`n_minus_1` from arrays: ``demand[code] = (weight, first_s, second_s, first
    station position in stations or -1)``; ``stations`` has ``id``, ``name``, ``district``."""
    ids = stations["id"].astype(str).to_numpy()
    total = 0.0
    covered = 0.0
    lost = np.zeros(len(ids))
    per_district = {}
    for code, (w, first, second, who) in demand.items():
        at_risk = (first <= threshold_s) & ~(second <= threshold_s)
        mask = at_risk & (who >= 0)
        d_lost = np.bincount(who[mask], weights=w[mask], minlength=len(ids))
        lost += d_lost
        per_district[code] = d_lost / w.sum() if w.sum() else d_lost
        total += w.sum()
        covered += w[first <= threshold_s].sum()
    codes = list(per_district)
    stack = np.vstack([per_district[c] for c in codes])
    worst = stack.argmax(axis=0)
    table = pd.DataFrame({
        "id": ids, "name": stations["name"].to_numpy(), "district": stations["district"].to_numpy(),
        "coverage_lost_share": lost / total,
        "coverage_lost_pp": lost / total * 100,
        "coverage_without_share": (covered - lost) / total,
        "worst_district": [district_names[codes[k]] for k in worst],
        "worst_district_lost_pp": stack[worst, np.arange(len(ids))] * 100,
    })
    table = table.sort_values(["coverage_lost_share", "id"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
