"""City assessment: every district on one road network, with cross-boundary service.

Every station serves wherever it arrives first, whatever the district line: each
district is assessed with :func:`coverage.assess.assess` on the whole city's road
network and with the stations of *every* district, so a demand point's first-due
station may belong to a neighbour. Per-district figures add the share of the
district's demand first served from outside it.

Districts are independent tasks (one :func:`assess` each) and run on a
:class:`~coverage.city.runner.Runner`: serially, or on Dask with the road index
scattered once to every worker. A task writes its district's own outputs where it
runs (``districts/<code>/``, atomically) and sends back only the figures the city
needs (:class:`DistrictFigures`, about 32 bytes per demand point), not the whole
assessment. The result does not depend on the runner.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from coverage.assess import assess
from coverage.assess.metrics import response_metrics
from coverage.city.districts import DistrictCheck, check_districts, district_of
from coverage.city.runner import Runner
from coverage.engine import RoadIndex, build_index
from coverage.errors import InputError
from coverage.network.model import RoadNetwork
from coverage.presets import ResponseStandard, response_standard

__all__ = ["CityAssessment", "DistrictFigures", "assess_city", "district_task", "n_minus_1",
           "n_minus_1_table", "road_length_m"]


@dataclass(frozen=True)
class DistrictFigures:
    """What the city needs from one district's assessment (the rest stays where it ran).

    Attributes
    ----------
    code : str
    metrics : dict
        The district's :attr:`Assessment.metrics <coverage.assess.Assessment>`.
    weight, first_due_s, second_due_s : ndarray
        Per demand point: weight, first- and second-due travel seconds.
    first_station : ndarray of int
        Per demand point: row of its first-due station in ``stations``, -1 for none.
    stations : GeoDataFrame
        One row per station of the assessment (network CRS): ``id``, ``name``, ``type``,
        ``area_cap_km2`` (when known), ``district_km2`` (its first-due area in this
        district), ``demand_weight``, ``max_first_due_s``.
    seconds : float
        Time the task took, outputs included.
    outputs : str or None
        The folder its own outputs were written to, if any.
    """

    code: str
    metrics: dict
    weight: np.ndarray
    first_due_s: np.ndarray
    second_due_s: np.ndarray
    first_station: np.ndarray
    stations: gpd.GeoDataFrame
    seconds: float
    outputs: str | None = None

    @property
    def demand_points(self) -> int:
        """Number of demand points."""
        return int(len(self.weight))


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
    by_district : dict of str to DistrictFigures
        Each district's figures, by code. Its full :class:`~coverage.assess.Assessment`
        (layers, cells, times) is written to ``district_dir`` when given, or is
        ``coverage.assess.assess(replace(network, boundary=polygon), stations,
        access="snap")``.
    check : DistrictCheck
        Overlaps and gaps of the districts layer.
    network : RoadNetwork
    index : RoadIndex
    events : list of str
        Worker deaths and retries during the run.
    runner : str
        Where it ran.
    district_dir : Path or None
        Folder holding each district's own outputs (``<code>/``), if they were written.
    """

    standard: ResponseStandard
    metrics: dict
    districts: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    by_district: dict[str, DistrictFigures]
    check: DistrictCheck
    network: RoadNetwork
    index: RoadIndex
    events: list[str] = field(default_factory=list)
    runner: str = "serial (in process)"
    district_dir: Path | None = None

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


def district_task(item: tuple[str, Any], *, network: RoadNetwork, graph: Any, index: RoadIndex,
                  stations: gpd.GeoDataFrame, standard: ResponseStandard, step_m: float,
                  out_dir: str | None = None, return_files: bool = False,
                  tiles: str | None = "osm") -> DistrictFigures | tuple[DistrictFigures, dict]:
    """Assess one district (``item = (code, polygon in network CRS)``) with every station.

    Parameters
    ----------
    network : RoadNetwork
        The city's network without its graph (``graph=None``): routing and road
        samples use ``index``; the graph is needed only for the counts in the
        district's own ``summary.json``.
    graph : handle
        ``graph.value()`` gives the network's graph (or its topology without edge
        attributes, which counts the same), fetched only when outputs are written.
    out_dir : str, optional
        Write the district's own outputs (:func:`~coverage.outputs.write.write_assessment`)
        to ``out_dir/<code>/``, atomically, where the task runs.
    return_files : bool
        Write them to a temporary folder instead and send them back as
        ``{relative path: bytes}`` (workers that do not see the client's folder).

    Returns
    -------
    DistrictFigures
        Or ``(figures, files)`` with ``return_files``.
    """
    code, polygon = item
    start = time.perf_counter()
    # Road samples snapped to their own road (access="snap"). The land model costs 9-160 s per
    # real district on the 15k generated city (528 s for the nine, most of it the no-access land
    # beyond the generated roads: benchmarks/access_model.py --city 15k --districts), over the
    # 3-minute city goal; `assess` per district gives land figures.
    result = assess(replace(network, boundary=polygon), stations, standard=standard,
                    step_m=step_m, index=index, access="snap")
    files = None
    if out_dir is not None or return_files:
        from coverage.outputs.write import write_assessment

        full = replace(result, network=replace(result.network, graph=graph.value()))
        if return_files:
            with tempfile.TemporaryDirectory(prefix="district-") as tmp:
                write_assessment(full, Path(tmp) / "out", tiles=tiles)
                files = {p.relative_to(Path(tmp) / "out").as_posix(): p.read_bytes()
                         for p in sorted((Path(tmp) / "out").rglob("*")) if p.is_file()}
        else:
            write_assessment(full, Path(out_dir) / str(code), tiles=tiles)
    figures = _figures(str(code), result, time.perf_counter() - start,
                       None if out_dir is None else str(Path(out_dir) / str(code)))
    return (figures, files) if return_files else figures


def _figures(code: str, a, seconds: float, outputs: str | None) -> DistrictFigures:
    st = a.stations
    keep = [c for c in ("id", "name", "type", "area_cap_km2", "district_km2", "demand_weight",
                        "max_first_due_s") if c in st]
    stations = gpd.GeoDataFrame(st[keep].copy(), geometry=st.geometry.values, crs=st.crs)
    pos = {s: i for i, s in enumerate(st["id"].astype(str))}
    dem = a.demand
    who = np.array([pos.get(s, -1) if s is not None else -1 for s in dem["first_due_station"]],
                   dtype=np.int64)
    return DistrictFigures(code, a.metrics, dem["weight"].to_numpy(float),
                           dem["first_due_s"].to_numpy(float), dem["second_due_s"].to_numpy(float),
                           who, stations, seconds, outputs)


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


class _Topology:
    """A graph that pickles as its nodes and edges only, and unpickles as a
    ``MultiDiGraph`` without edge attributes: the same node and edge counts for a
    district's ``summary.json``, without sending every edge's geometry to a worker."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph

    def __reduce__(self):
        g = self.graph
        return _topology, (list(g.nodes), list(g.edges(keys=True)), dict(g.graph))


def _topology(nodes: list, edges: list, attrs: dict) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(**attrs)
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


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
    district_dir: str | Path | None = None,
    tiles: str | None = "osm",
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
    district_dir : str or Path, optional
        Write each district's own outputs (map, report, layers, tables:
        :func:`~coverage.outputs.write.write_assessment`) to ``district_dir/<code>/``.
        Each task writes its district where it runs, atomically; workers that do not
        see this folder (another machine) send the files back to be written here.
    tiles : {"osm", "amap", "none"}
        Basemap of the district maps.

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
    # Workers get the road index and the network without its graph (pickling the graph's
    # edge geometries one by one cost 2 s at 15k nodes, and 1.3 s per worker to unpickle).
    shared = {"network": runner.share(replace(network, graph=None), like=network,
                                      part="without graph"),
              "index": runner.share(index), "graph": None, "stations": stations,
              "standard": std, "step_m": float(step_m), "tiles": tiles}
    return_files = False
    if district_dir is not None:
        # A district's summary.json counts the graph's nodes and edges: its topology goes to
        # the workers, unpickled by a task only when it writes.
        graph = network.graph if runner.client is None else _Topology(network.graph)
        shared["graph"] = runner.share(graph, lazy=True, like=network, part="graph topology")
        district_dir = Path(district_dir)
        return_files = not runner.shares_folder(district_dir)
        shared["out_dir"] = None if return_files else str(district_dir)
        shared["return_files"] = return_files
    results = runner.map(district_task, items, list(districts_m["name"]), desc="districts",
                         shared=shared, cost=cost)
    if return_files:
        results = [_write_returned(figures, files, district_dir) for figures, files in results]
    by_district = {str(code): f for code, f in zip(districts_m["code"], results, strict=True)}
    return _combine(std, districts_m, by_district, check, network, index, runner, district_dir)


def _write_returned(figures: DistrictFigures, files: dict[str, bytes],
                    district_dir: Path) -> DistrictFigures:
    """Write a district's outputs sent back by a worker, as one run folder."""
    from coverage.outputs.files import run_folder

    target = district_dir / figures.code
    with run_folder(target) as tmp:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return replace(figures, outputs=str(target))


def _combine(std, districts_m, by_district, check, network, index, runner,
             district_dir) -> CityAssessment:
    first = next(iter(by_district.values()))
    st = first.stations
    home = district_of(shapely.get_coordinates(st.geometry.values), districts_m)
    st_ids = st["id"].astype(str).to_numpy()
    rows, w_all, f_all, s_all, out_all = [], [], [], [], []
    km2 = np.zeros(len(st))
    weight = np.zeros(len(st))
    worst = np.full(len(st), np.nan)
    served = np.zeros(len(st), dtype=int)
    for code, name, geom in zip(districts_m["code"], districts_m["name"], districts_m.geometry,
                                strict=True):
        d = by_district[str(code)]
        w = d.weight
        outside = (d.first_station >= 0) & (home[np.maximum(d.first_station, 0)] != str(code))
        km2 += np.nan_to_num(d.stations["district_km2"].to_numpy(float))
        weight += d.stations["demand_weight"].to_numpy(float)
        worst = np.fmax(worst, d.stations["max_first_due_s"].to_numpy(float))
        served += d.stations["demand_weight"].to_numpy(float) > 0
        w_all.append(w)
        f_all.append(d.first_due_s)
        s_all.append(d.second_due_s)
        out_all.append(outside)
        m = d.metrics
        in_district = home == str(code)
        rows.append({
            "code": str(code), "name": str(name),
            "area_km2": float(shapely.area(geom) / 1e6),
            "stations": int(in_district.sum()),
            "demand_points": d.demand_points,
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
    table["seconds"] = [round(by_district[c].seconds, 3) for c in table["code"]]
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
                          list(runner.events), runner.description,
                          None if district_dir is None else Path(district_dir))


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
    for code, d in city.by_district.items():
        # Station rows of the district's own table, mapped to rows of the city's.
        rows = np.array([pos.get(s, -1) for s in d.stations["id"].astype(str)], dtype=np.int64)
        who = np.where(d.first_station >= 0, rows[np.maximum(d.first_station, 0)], -1)
        demand[code] = (d.weight, d.first_due_s, d.second_due_s, who)
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
