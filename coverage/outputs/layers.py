"""Result layers for GIS teams: GeoJSON per layer, one GeoPackage, CSV tables, GCJ-02 copies.

:func:`assessment_layers` turns an :class:`~coverage.assess.Assessment` into
named WGS84 layers with stable property names; :func:`hydrant_layers` does the
same for hydrant results. The map (:mod:`coverage.outputs.maps`) draws these very
layers, so what a planner sees is what the GIS team imports.

Layers and their properties (units in the name; ``_s`` seconds, ``_m``
metres, ``_km2`` square kilometres, ``_min`` minutes):

``boundary``
    The study district: ``name``, ``area_km2``.
``stations``
    ``id``, ``name``, ``type`` (``level1``/``level2``/``special``/``small``),
    ``status`` (``existing``/``proposed``/``closed``), ``district_km2``,
    ``area_cap_km2``, ``over_cap``, ``protection_radius_m``,
    ``farthest_travel_s``, ``max_first_due_s``, ``snap_m``.
``districts``
    Network-Voronoi district of each station: ``station_id``, ``name``,
    ``type``, ``district_km2``, ``area_cap_km2``, ``over_cap``, ``protection_radius_m``.
``service_areas``
    Land reached by each station within each break: ``station_id``,
    ``from_min``, ``to_min``, ``area_km2``.
``response_rings``
    First-due rings of all stations together (ArcGIS Service Area "rings"):
    ``from_min``, ``to_min``, ``area_km2``.
``roads``
    Road pieces coloured by first-due travel time: ``road_name``, ``highway``,
    ``first_due_s`` (the slowest point of the piece), ``first_due_station``,
    ``band`` (e.g. ``"3–4 min"``), ``band_index`` (0 = fastest; ``len(breaks)``
    = beyond the last break; ``len(breaks) + 1`` = unreachable), ``length_m``.
``demand``
    Demand points: ``weight``, ``first_due_s``, ``first_due_station``,
    ``second_due_s``, ``second_due_station``, ``response_s``, ``covered``;
    road samples add ``highway`` and ``name``; building demand adds ``id``,
    ``floor_area_m2``, ``levels`` and ``highrise``.
``uncovered``
    The demand points with ``covered == False`` (same properties).
``allocation_lines``
    ArcGIS Location-Allocation "Lines": a straight line from each reached
    demand point to its first-due station: ``demand_id``, ``facility_id``,
    ``facility_name``, ``travel_s``, ``weight``, ``covered``.
``hydrants``, ``hydrant_gaps``, ``proposed_hydrants``
    Hydrant results, with the properties the hydrant analysis gives them.

A placement run (``site``, ``plan``) adds (:func:`placement_layers`):

``sites``
    The chosen new sites: ``id`` (candidate id), ``name`` (from its road),
    ``type``, ``status``, ``road_name``, ``road_class``.
``candidates``
    Every candidate site: ``id``, ``road_name``, ``road_class``, ``source``
    (``network``/``user``), ``chosen``.
``facilities``
    ArcGIS Location-Allocation "Facilities": existing stations and candidates in
    one layer: ``facility_id``, ``name``, ``facility_type`` (``required`` = an
    existing station kept, ``chosen`` = a new site chosen, ``candidate`` = a
    site not chosen, ``closed`` = an existing station the model closed),
    ``station_type``, ``road_name``.
``unreachable_demand``
    Demand points no station or candidate reaches within the threshold:
    ``demand_id``, ``weight``, ``road_name``, ``highway``.

and the table ``travel_matrix.csv`` (:func:`travel_matrix_table`): the
facility × demand travel-time matrix in long format (ArcGIS OD cost matrix
"Lines" without geometry), one row per pair within the matrix cutoff:
``facility_id``, ``facility_type``, ``demand_id``, ``travel_s``. Pairs beyond the
cutoff are not listed (they cannot serve the demand point). CSV, not Parquet:
it needs no extra dependency and every GIS and spreadsheet tool reads it.

GeoJSON files follow RFC 7946: WGS84 longitude/latitude, exterior rings
counter-clockwise, no ``crs`` member. GCJ-02 copies (for overlaying on Amap
data) are written to a ``gcj02/`` subfolder and are *not* WGS84.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.ops import substring

from coverage.assess.districts import dissolve_cells
from coverage.assess.isochrones import DEFAULT_BREAKS_MIN, service_areas
from coverage.coordsys import from_wgs84
from coverage.errors import InputError
from coverage.outputs.files import atomic_path, atomic_write, write_geojson
from coverage.outputs.summary import unreachable_demand

__all__ = [
    "LAYER_ORDER",
    "METRIC_ROWS",
    "allocation_lines",
    "assessment_layers",
    "band_labels",
    "first_due_roads",
    "hydrant_layers",
    "metrics_table",
    "placement_layers",
    "service_breaks_min",
    "station_changes",
    "station_table",
    "travel_matrix_table",
    "write_csv",
    "write_gcj02_copies",
    "write_geopackage",
    "write_layers",
]

#: Layer names in drawing / GeoPackage order (bottom to top).
LAYER_ORDER: tuple[str, ...] = (
    "boundary",
    "response_rings",
    "service_areas",
    "districts",
    "district_pieces",
    "no_access",
    "worst_first_due",
    "highrise",
    "highrise_no_aerial_access",
    "roads",
    "demand",
    "uncovered",
    "unreachable_demand",
    "allocation_lines",
    "hydrant_gaps",
    "hydrants",
    "proposed_hydrants",
    "candidates",
    "facilities",
    "stations",
    "sites",
)

_STATION_COLUMNS = [
    "id", "name", "type", "status", "district_km2", "area_cap_km2", "over_cap",
    "protection_radius_m", "farthest_travel_s", "max_first_due_s", "snap_m",
    "pieces", "main_piece_share", "detached_farthest_m",
]
_DEMAND_COLUMNS = [
    "demand_id", "weight", "highway", "name", "first_due_s", "first_due_station",
    "second_due_s", "second_due_station", "response_s", "covered",
    "id", "floor_area_m2", "levels", "highrise",
]


def band_labels(breaks_min: Sequence[float]) -> list[str]:
    """Labels of the travel-time bands cut by ``breaks_min`` (minutes).

    ``["≤ 2 min", "2–3 min", ..., "> 5 min", "unreachable"]`` for breaks 2, 3, 4, 5.
    """
    b = [float(x) for x in breaks_min]
    labels = [f"≤ {b[0]:g} min"] + [f"{lo:g}–{hi:g} min" for lo, hi in zip(b[:-1], b[1:], strict=True)]
    return labels + [f"> {b[-1]:g} min", "unreachable"]


def _band_index(seconds: np.ndarray, breaks_min: Sequence[float]) -> np.ndarray:
    edges = np.asarray(breaks_min, dtype=float) * 60.0
    band = np.searchsorted(edges, seconds, side="left")
    band[~np.isfinite(seconds)] = len(edges) + 1
    return band


def service_breaks_min(assessment) -> list[float]:
    """The service-area breaks the assessment was run with (minutes)."""
    areas = assessment.service_areas
    if len(areas) and "to_min" in areas:
        return sorted({float(v) for v in areas["to_min"]})
    return list(DEFAULT_BREAKS_MIN)


def first_due_roads(assessment, breaks_min: Sequence[float] | None = None) -> gpd.GeoDataFrame:
    """Road pieces coloured by first-due travel time (network CRS).

    Every demand point stands for the stretch of its road segment half-way to
    its neighbours on the same segment. Consecutive stretches with the same
    time band and first-due station are merged, and pieces are clipped to the
    district boundary.

    Parameters
    ----------
    assessment : Assessment
    breaks_min : sequence of float, optional
        Band limits in minutes; default: the assessment's service-area breaks.

    Returns
    -------
    GeoDataFrame
        Columns listed for the ``roads`` layer in this module's docstring,
        LineStrings in the network CRS.
    """
    breaks = list(breaks_min) if breaks_min is not None else service_breaks_min(assessment)
    index = assessment.index
    # Road samples, whatever the demand: the land grid has no road positions.
    road_set = getattr(assessment, "road_set", assessment.demand_set)
    samples = assessment.road_samples() if hasattr(assessment, "road_samples") else assessment.demand
    snap = road_set.snap
    seconds = samples["first_due_s"].to_numpy(float)
    station = samples["first_due_station"].astype(object).fillna("").to_numpy()
    labels = band_labels(breaks)
    if len(seconds) == 0:
        return gpd.GeoDataFrame(
            {c: [] for c in ("road_name", "highway", "first_due_s", "first_due_station", "band",
                             "band_index", "length_m")},
            geometry=[], crs=assessment.network.crs,
        )
    order = np.lexsort((snap.frac, snap.seg))
    seg, frac = snap.seg[order], snap.frac[order]
    seconds, station = seconds[order], station[order]
    band = _band_index(seconds, breaks)

    # Stretch of each point: from the midpoint with its predecessor to the midpoint
    # with its successor; the ends mirror the nearest midpoint (exact for road samples).
    same_prev = np.r_[False, seg[1:] == seg[:-1]]
    same_next = np.r_[seg[:-1] == seg[1:], False]
    mid_prev = np.where(same_prev, (frac + np.r_[0.0, frac[:-1]]) / 2, np.nan)
    mid_next = np.where(same_next, (frac + np.r_[frac[1:], 1.0]) / 2, np.nan)
    start = np.where(same_prev, mid_prev, np.where(same_next, 2 * frac - mid_next, 0.0))
    end = np.where(same_next, mid_next, np.where(same_prev, 2 * frac - mid_prev, 1.0))
    start, end = np.clip(start, 0.0, 1.0), np.clip(end, 0.0, 1.0)

    new_run = ~same_prev | (band != np.r_[-1, band[:-1]]) | (station != np.r_[None, station[:-1]])
    run_id = np.cumsum(new_run) - 1
    first = np.flatnonzero(new_run)
    last = np.r_[first[1:] - 1, len(seg) - 1]
    worst = np.full(len(first), -np.inf)
    np.maximum.at(worst, run_id, np.where(np.isfinite(seconds), seconds, np.inf))
    geoms = [
        substring(index.seg_geometry[s], a, b, normalized=True)
        for s, a, b in zip(seg[first], start[first], end[last], strict=True)
    ]
    boundary = assessment.network.boundary
    geoms = np.asarray(geoms, dtype=object)
    if boundary is not None:
        shapely.prepare(boundary)
        geoms = shapely.intersection(geoms, boundary)
    roads = gpd.GeoDataFrame(
        {
            "road_name": index.seg_name[seg[first]],
            "highway": index.seg_highway[seg[first]],
            "first_due_s": worst,
            "first_due_station": station[first],
            "band": np.asarray(labels, dtype=object)[band[first]],
            "band_index": band[first],
        },
        geometry=geoms,
        crs=assessment.network.crs,
    )
    roads = roads[~roads.geometry.is_empty & (roads.geometry.length > 0)].reset_index(drop=True)
    roads["length_m"] = roads.geometry.length
    return roads


def station_table(assessment) -> gpd.GeoDataFrame:
    """The ``stations`` layer columns of an assessment (network CRS)."""
    st = assessment.stations
    return st[[c for c in _STATION_COLUMNS if c in st] + [st.geometry.name]].copy()


def assessment_layers(
    assessment, *, breaks_min: Sequence[float] | None = None, roads: bool = True
) -> dict[str, gpd.GeoDataFrame]:
    """Every result layer of an assessment, in WGS84, with stable property names.

    Parameters
    ----------
    assessment : Assessment
    breaks_min : sequence of float, optional
        Bands of the ``roads`` and ``response_rings`` layers, minutes; default:
        the assessment's service-area breaks.
    roads : bool
        Build the ``roads`` layer (a couple of seconds for a district).

    Returns
    -------
    dict of str to GeoDataFrame
        ``boundary``, ``stations``, ``districts``, ``service_areas``,
        ``response_rings``, ``roads``, ``demand``, ``uncovered`` (see the module
        docstring), each in EPSG:4326.
    """
    breaks = list(breaks_min) if breaks_min is not None else service_breaks_min(assessment)
    net = assessment.network
    area = net.boundary if net.boundary is not None else net.study_area
    ids = assessment.stations["id"].astype(str).tolist()
    land = getattr(assessment, "land_set", assessment.demand_set)
    rings = service_areas(
        land.cells, getattr(assessment, "land_times", assessment.times), ids, crs=net.crs,
        breaks_min=breaks, rings=True, dissolve=True,
    ).drop(columns="station_id")
    demand = assessment.demand.assign(demand_id=np.arange(len(assessment.demand)))
    demand = demand[[c for c in _DEMAND_COLUMNS if c in demand] + [demand.geometry.name]]
    layers = {
        "boundary": gpd.GeoDataFrame(
            {"name": ["study district"], "area_km2": [shapely.area(area) / 1e6]},
            geometry=[area], crs=net.crs,
        ),
        "stations": station_table(assessment),
        "districts": assessment.districts,
        "service_areas": assessment.service_areas,
        "response_rings": rings[~rings.geometry.is_empty],
        "demand": demand,
        "uncovered": (uncovered_land(assessment) if getattr(assessment.demand_set, "kind", "") == "land"
                      else demand[~demand["covered"].astype(bool)]),
        "allocation_lines": allocation_lines(assessment),
    }
    if roads:
        layers["roads"] = first_due_roads(assessment, breaks)
    layers.update(access_layers(assessment))
    return {k: v.to_crs(4326).reset_index(drop=True) for k, v in layers.items()}


def allocation_lines(assessment) -> gpd.GeoDataFrame:
    """Straight lines from each reached demand point to its first-due station (network CRS).

    The "Lines" output of ArcGIS Location-Allocation; see the module docstring
    for the fields. Unreached demand points have no line.
    """
    demand = assessment.demand
    st = assessment.stations
    where = dict(zip(st["id"].astype(str), st.geometry, strict=True))
    names = dict(zip(st["id"].astype(str), st["name"].astype(str), strict=True)) if "name" in st else {}
    station = demand["first_due_station"].astype(object)
    reached = station.notna().to_numpy() & station.astype(str).isin(set(where)).to_numpy()
    rows = np.flatnonzero(reached)
    ids = station.iloc[rows].astype(str).to_numpy()
    origins = demand.geometry.values[rows]
    targets = np.asarray([where[i] for i in ids], dtype=object)
    lines = shapely.linestrings(
        np.stack([shapely.get_coordinates(origins), shapely.get_coordinates(targets)], axis=1)
    ) if len(rows) else np.asarray([], dtype=object)
    return gpd.GeoDataFrame(
        {
            "demand_id": rows,
            "facility_id": ids,
            "facility_name": [names.get(i, i) for i in ids],
            "travel_s": demand["first_due_s"].to_numpy(float)[rows],
            "weight": demand["weight"].to_numpy(float)[rows],
            "covered": demand["covered"].astype(bool).to_numpy()[rows],
        },
        geometry=lines, crs=assessment.network.crs,
    )


def _facility_types(run) -> tuple[list[str], list[str]]:
    """Column ids of the placement problem and the ArcGIS facility type of each."""
    ids = [str(i) for i in run.problem.candidate_ids]
    closed = {ids[int(c)] for c in run.result.closed_existing}
    existing = set(run.before.stations["id"].astype(str))
    chosen = set(run.new_sites["id"].astype(str))
    types = [
        ("closed" if i in closed else "required") if i in existing
        else ("chosen" if i in chosen else "candidate")
        for i in ids
    ]
    return ids, types


def placement_layers(run, rejected=None) -> dict[str, gpd.GeoDataFrame]:
    """The layers a placement run adds: ``sites``, ``candidates``, ``facilities``, ``unreachable_demand``.

    Parameters
    ----------
    run : SitingRun
        From :func:`coverage.siting.site_stations`.
    rejected : GeoDataFrame, optional
        Candidates a named site rule removed before the model, with ``excluded_by``;
        added to ``candidates`` with ``chosen`` false. Candidates the model saw have
        an empty ``excluded_by``.

    Returns
    -------
    dict of str to GeoDataFrame
        In WGS84; fields in the module docstring.
    """
    sites = run.new_sites
    sites = sites[[c for c in ("id", "name", "type", "status", "road_name", "road_class") if c in sites]
                  + [sites.geometry.name]]
    cands = run.candidates
    cands = cands.assign(excluded_by=cands["excluded_by"].fillna("") if "excluded_by" in cands else "")
    if rejected is not None and len(rejected):
        rejected = rejected.to_crs(cands.crs).assign(chosen=False)
        cands = gpd.GeoDataFrame(pd.concat([cands, rejected], ignore_index=True),
                                 geometry=cands.geometry.name, crs=cands.crs)
    cands = cands[[c for c in ("id", "road_name", "road_class", "source", "chosen", "excluded_by")
                   if c in cands] + [cands.geometry.name]]
    _, unreachable = unreachable_demand(run.before, run.result.uncoverable)
    return {
        "sites": sites.to_crs(4326).reset_index(drop=True),
        "candidates": cands.to_crs(4326).reset_index(drop=True),
        "facilities": facilities_layer(run),
        "unreachable_demand": unreachable,
    }


def facilities_layer(run) -> gpd.GeoDataFrame:
    """Existing stations and candidate sites in one layer with ``facility_type`` (WGS84)."""
    st = run.before.stations.to_crs(4326)
    cands = run.candidates.to_crs(4326)
    chosen_names = dict(zip(run.new_sites["id"].astype(str), run.new_sites["name"], strict=True))
    closed = {str(run.problem.candidate_ids[int(c)]) for c in run.result.closed_existing} if run.problem else set()
    road = cands["road_name"] if "road_name" in cands else pd.Series(None, index=cands.index)
    frame = pd.DataFrame({
        "facility_id": list(st["id"].astype(str)) + list(cands["id"].astype(str)),
        "name": list(st["name"].astype(str) if "name" in st else st["id"].astype(str))
        + [chosen_names.get(str(i), f"{r or 'unnamed road'} (candidate {i})")
           for i, r in zip(cands["id"], road, strict=True)],
        "facility_type": ["closed" if str(i) in closed else "required" for i in st["id"]]
        + ["chosen" if c else "candidate" for c in cands["chosen"].astype(bool)],
        "station_type": list(st["type"].astype(str)) + [None] * len(cands),
        "road_name": [None] * len(st) + list(road),
    })
    for i, sid in enumerate(chosen_names):
        frame.loc[frame["facility_id"] == sid, "station_type"] = str(run.new_sites["type"].iloc[i])
    geometry = list(st.geometry) + list(cands.geometry)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)


def travel_matrix_table(run) -> pd.DataFrame:
    """The facility × demand travel-time matrix in long format (see the module docstring).

    Rows are ordered by demand point, then facility; travel times in seconds.
    """
    import scipy.sparse as sp

    ids, types = _facility_types(run)
    cost = run.problem.cost
    if sp.issparse(cost):
        coo = sp.coo_array(cost)
        rows, cols, vals = coo.row, coo.col, coo.data
    else:
        cost = np.asarray(cost, dtype=float)
        rows, cols = np.nonzero(np.isfinite(cost))
        vals = cost[rows, cols]
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    return pd.DataFrame({
        "facility_id": np.asarray(ids, dtype=object)[cols],
        "facility_type": np.asarray(types, dtype=object)[cols],
        "demand_id": rows.astype(np.int64),
        "travel_s": np.round(vals.astype(float), 1),
    })
def uncovered_land(assessment) -> gpd.GeoDataFrame:
    """Land demand not reached within the standard, dissolved per first-due station (network CRS).

    Columns ``first_due_station``, ``first_due_s`` and ``second_due_s`` (the slowest
    cell), ``weight`` (m² of land); one (multi)polygon per station instead of a point per cell.
    """
    dem = assessment.demand
    miss = ~dem["covered"].astype(bool).to_numpy()
    station = dem["first_due_station"].astype(object).fillna("unreached").to_numpy()
    keys = sorted(set(station[miss]))
    polys = dissolve_cells(assessment.demand_set.cells, np.where(miss, station, None), keys)
    frame = dem[miss].assign(first_due_station=station[miss])
    agg = frame.groupby("first_due_station").agg(
        first_due_s=("first_due_s", "max"), second_due_s=("second_due_s", "max"), weight=("weight", "sum")
    ).reindex(keys)
    return gpd.GeoDataFrame(
        {"first_due_station": keys, **{c: agg[c].to_numpy() for c in agg.columns}},
        geometry=polys, crs=assessment.network.crs,
    )


def access_layers(assessment) -> dict[str, gpd.GeoDataFrame]:
    """The access model's layers (network CRS): ``no_access`` zones (车进不去), ``district_pieces``,
    ``worst_first_due`` (the point that sets the worst first-due time, with its road), and
    ``highrise`` / ``highrise_no_aerial_access`` when buildings were assessed.

    Empty dict for an assessment without them.
    """
    out = {}
    if getattr(assessment, "no_access", None) is not None:
        out["no_access"] = assessment.no_access
    if getattr(assessment, "district_pieces", None) is not None:
        out["district_pieces"] = assessment.district_pieces
    highrise = getattr(assessment, "highrise", None)
    if highrise is not None:
        out["highrise"] = highrise
        out["highrise_no_aerial_access"] = highrise[~highrise["aerial_access"].astype(bool)]
    worst = assessment.metrics.get("worst_first_due")
    if worst:
        props = {k: [v] for k, v in worst.items() if k not in ("x", "y", "lon", "lat")}
        out["worst_first_due"] = gpd.GeoDataFrame(
            props, geometry=[shapely.Point(worst["x"], worst["y"])], crs=assessment.network.crs
        )
    return out


def station_changes(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``stations`` layer of a placement run: what is new, kept and closed.

    Parameters
    ----------
    before, after : GeoDataFrame
        ``stations`` layers before and after (with ``id``).

    Returns
    -------
    GeoDataFrame
        ``after``'s rows, with ``status = "proposed"`` for ids not in ``before``,
        plus ``before``'s rows missing from ``after`` with ``status = "closed"``
        and their district figures blanked; in ``after``'s CRS.
    """
    after = after.copy()
    old = set(before["id"].astype(str))
    status = after["status"].fillna("existing").astype(str).to_numpy() if "status" in after else "existing"
    after["status"] = np.where(~after["id"].astype(str).isin(old), "proposed", status)
    gone = before[~before["id"].astype(str).isin(set(after["id"].astype(str)))].copy()
    gone["status"] = "closed"
    for col in ("district_km2", "protection_radius_m", "max_first_due_s"):
        if col in gone:
            gone[col] = np.nan
    frames = [after] + ([gone.to_crs(after.crs)] if len(gone) else [])
    return gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry=after.geometry.name, crs=after.crs
    )


def _get(obj, names: Sequence[str]):
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def hydrant_layers(result, proposal=None) -> dict[str, gpd.GeoDataFrame]:
    """The hydrant layers of a hydrant analysis, in WGS84.

    Parameters
    ----------
    result : HydrantReport, mapping or object
        A :class:`coverage.hydrants.HydrantReport` (its ``hydrants`` and the
        straight-line coverage gaps ``euclidean.gaps``), or anything with
        GeoDataFrame items or attributes ``hydrants``, ``gaps`` (or
        ``hydrant_gaps``) and ``proposed`` (or ``proposals`` /
        ``proposed_hydrants``); missing ones are left out.
    proposal : Proposal or GeoDataFrame, optional
        Proposed hydrants (:class:`coverage.hydrants.Proposal`, whose ``sites`` are used).

    Returns
    -------
    dict of str to GeoDataFrame
        ``hydrants``, ``hydrant_gaps``, ``proposed_hydrants``, whichever exist.
    """
    found = {
        "hydrants": _get(result, ("hydrants",)),
        "hydrant_gaps": _get(result, ("hydrant_gaps", "gaps")),
        "proposed_hydrants": _get(result, ("proposed_hydrants", "proposed", "proposals")),
    }
    coverage = getattr(result, "euclidean", None)
    if found["hydrant_gaps"] is None and coverage is not None:
        found["hydrant_gaps"] = coverage.gaps
    if proposal is not None:
        found["proposed_hydrants"] = getattr(proposal, "sites", proposal)
    out = {}
    for key, layer in found.items():
        if layer is None:
            continue
        if not isinstance(layer, gpd.GeoDataFrame) or layer.crs is None:
            raise InputError(
                f"the {key} layer is not a GeoDataFrame with a CRS",
                source=key, fix="pass GeoDataFrames with their CRS set",
            )
        out[key] = layer.to_crs(4326).reset_index(drop=True)
    return out


def _ordered(layers: Mapping[str, gpd.GeoDataFrame]) -> list[str]:
    known = [k for k in LAYER_ORDER if k in layers]
    return known + sorted(k for k in layers if k not in LAYER_ORDER)


def _check_name(name: str) -> None:
    if not name or any(c in name for c in "/\\.") or name.startswith("-"):
        raise InputError(f"layer name {name!r} cannot be a file name", fix="use letters, digits and _")


def write_geopackage(
    layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, crs: object = "EPSG:4326"
) -> Path:
    """Write all layers into one GeoPackage, atomically.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to layer (any CRS).
    path : str or Path
        The ``.gpkg`` file; replaced if it exists.
    crs : CRS-like
        Output CRS: ``"EPSG:4326"`` (WGS84, default), ``"EPSG:4490"`` (CGCS2000),
        or a projected CRS such as ``"EPSG:4545"`` (CGCS2000 / 3-degree
        Gauss-Kruger CM 108E, for Chongqing).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        If ``crs`` is not a CRS pyproj knows.
    """
    target = _crs(crs)
    path = Path(path)
    with atomic_path(path, suffix=".gpkg") as tmp:
        for name in _ordered(layers):
            _check_name(name)
            layer = layers[name].to_crs(target)
            layer = _plain_columns(layer)
            kwargs = {"geometry_type": "Unknown"} if len(layer) == 0 else {}
            pyogrio.write_dataframe(layer, tmp, layer=name, driver="GPKG", append=tmp.exists(), **kwargs)
    return path


def _crs(crs: object) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(
            f"unknown output CRS {crs!r} ({exc})",
            fix="give an EPSG code such as EPSG:4326, EPSG:4490 (CGCS2000) or EPSG:4545",
        ) from None


def _plain_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Object columns of mixed or missing values become text, which every format stores."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object or str(out[col].dtype).startswith("string"):
            out[col] = out[col].map(lambda v: None if v is None or v is pd.NA else str(v))
    return out


def write_gcj02_copies(layers: Mapping[str, gpd.GeoDataFrame], out_dir: str | Path) -> dict[str, Path]:
    """GeoJSON copies of the layers shifted to GCJ-02, for overlaying on Amap data.

    Written as ``<out_dir>/gcj02/<name>.gcj02.geojson``. The coordinates are
    GCJ-02 longitude/latitude, so these files are deliberately *not* WGS84.
    """
    folder = Path(out_dir) / "gcj02"
    paths = {}
    for name in _ordered(layers):
        _check_name(name)
        shifted = from_wgs84(layers[name].to_crs(4326), "gcj02")
        paths[name] = write_geojson(shifted, folder / f"{name}.gcj02.geojson")
    return paths


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV (with BOM, so Excel shows Chinese names), atomically."""
    frame = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
    return atomic_write(path, "\ufeff" + frame.to_csv(index=False, lineterminator="\n"))


#: Rows of :func:`metrics_table`: summary key, label, unit.
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("coverage_share", "coverage share (first-due within threshold)", "share"),
    ("second_due_coverage_share", "second-due coverage share", "share"),
    ("first_due_p50_s", "first-due travel p50", "s"),
    ("first_due_p90_s", "first-due travel p90", "s"),
    ("first_due_max_s", "first-due travel max", "s"),
    ("response_p90_s", "response p90 (turnout + travel)", "s"),
    ("unreachable_share", "unreachable share", "share"),
    ("first_due_judged_s", "first-due travel at the judged percentile", "s"),
    ("compliant", "meets the standard", "bool"),
    ("travel_threshold_s", "travel-time threshold", "s"),
    ("turnout_s", "turnout time", "s"),
)


def metrics_table(summaries: Mapping[str, Mapping]) -> pd.DataFrame:
    """Headline metrics side by side, one column per run.

    Parameters
    ----------
    summaries : mapping of str to dict
        Column label (e.g. ``"before"``, ``"after"`` or a scenario name) to a
        ``summary.json`` dict (:meth:`Assessment.summary`).

    Returns
    -------
    DataFrame
        Columns ``metric``, ``label``, ``unit`` and one per summary; missing
        values are NaN.
    """
    rows = []
    for key, label, unit in METRIC_ROWS:
        row = {"metric": key, "label": label, "unit": unit}
        for name, summary in summaries.items():
            value = summary.get(key)
            row[name] = np.nan if value is None else value
        rows.append(row)
    return pd.DataFrame(rows)


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    out_dir: str | Path,
    *,
    geojson: bool = True,
    gpkg: str | None = "layers.gpkg",
    gpkg_crs: object = "EPSG:4326",
    gcj02: bool = False,
) -> dict[str, Path]:
    """Write result layers for GIS: GeoJSON per layer, one GeoPackage, GCJ-02 copies.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        From :func:`assessment_layers` and :func:`hydrant_layers`.
    out_dir : str or Path
    geojson : bool
        One RFC 7946 ``<name>.geojson`` per layer.
    gpkg : str or None
        GeoPackage file name in ``out_dir`` holding every layer; None for none.
    gpkg_crs : CRS-like
        CRS of the GeoPackage (see :func:`write_geopackage`).
    gcj02 : bool
        Also write GCJ-02 GeoJSON copies under ``gcj02/``.

    Returns
    -------
    dict
        Output role (layer name, ``"gpkg"``, ``"gcj02/<name>"``) to path.
    """
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    if geojson:
        for name in _ordered(layers):
            _check_name(name)
            paths[name] = write_geojson(layers[name], out / f"{name}.geojson")
    if gpkg:
        paths["gpkg"] = write_geopackage(layers, out / gpkg, crs=gpkg_crs)
    if gcj02:
        paths.update({f"gcj02/{k}": v for k, v in write_gcj02_copies(layers, out).items()})
    return paths
