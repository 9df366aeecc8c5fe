"""``summary.json``: the one schema of every run's summary, for ``assess``, ``site`` and ``plan``.

This docstring is the reference for the file; the README points here.

Assessment run (``assess``, ``plan``'s ``assess/``)
    :meth:`coverage.assess.Assessment.summary` plus ``travel_model``:
    ``standard``, ``standard_clause``, ``turnout_s``, ``travel_threshold_s``,
    ``response_threshold_s``, the metrics (``coverage_share``,
    ``first_due_p50_s`` ...), ``demand``, ``network``, ``stations`` (one dict
    per station), ``cdf``.

Placement run (``site``, ``plan``'s ``site/``): the same keys in both, at the top level
    ``kind``
        ``"placement"``.
    ``model``, ``solver``, ``status``, ``message``, ``method``
        The location model, the solver that ran it and its honest status
        (``optimal``, ``feasible`` = time-limited incumbent, ...).
    ``objective``, ``objective_text``, ``bound``, ``gap``, ``solve_s``, ``build_s``
        Solver figures; ``objective_text`` says it in a planner's units.
    ``new_sites``
        One dict per chosen site: ``id`` (the candidate id, e.g. the OSM node
        ``N1873080412``), ``name`` (from its road, ``"嘉滨路 (new small station 1)"``),
        ``type``, ``road_name``, ``road_class``, ``lon``, ``lat`` (WGS84).
    ``candidates``
        Number of candidate sites the model chose from.
    ``unreachable_demand``
        Demand no candidate or station can reach within the threshold (LSCP
        leaves it out of the model instead of failing): ``count``, ``weight``,
        ``weight_unit`` and ``points``, one dict each with ``demand_id`` (row
        of ``demand.geojson``), ``lon``, ``lat``, ``weight``, ``road_name``. Also
        the ``unreachable_demand`` layer.
    ``presolve``, ``details``, ``rule_violations``, ``standard``
        Presolve counts, model details, 建标152 small-station rule violations
        measured on the final districts, the response standard's name.
    ``before``, ``after``
        Full assessment summaries (as above) of today's stations and of the
        stations after placement.
    ``parameters``
        The run's parameters (``site``: the command's options; ``plan``: the
        scenario's ``table.key`` values).

:func:`check_placement_summary` tests a dict against this schema.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from coverage.outputs.words import objective as objective_text

__all__ = [
    "PLACEMENT_KEYS",
    "check_placement_summary",
    "placement_summary",
    "run_summary",
    "unreachable_demand",
]

#: Top-level keys of a placement run's summary.json, in file order.
PLACEMENT_KEYS: tuple[str, ...] = (
    "kind", "model", "solver", "status", "message", "method", "objective", "objective_text",
    "bound", "gap", "solve_s", "build_s", "new_sites", "candidates", "unreachable_demand",
    "presolve", "details", "rule_violations", "standard", "before", "after", "parameters",
)
#: Keys of each ``new_sites`` entry.
NEW_SITE_KEYS: tuple[str, ...] = ("id", "name", "type", "road_name", "road_class", "lon", "lat")


def run_summary(assessment) -> dict:
    """:meth:`Assessment.summary` plus the travel model the network was built with."""
    summary = assessment.summary()
    model = getattr(assessment.network, "travel_model", None)
    if model is not None and hasattr(model, "as_dict"):
        summary["travel_model"] = model.as_dict()
    return summary


def unreachable_demand(assessment, rows) -> tuple[dict, object]:
    """The ``unreachable_demand`` block and layer for demand rows no site can reach.

    Parameters
    ----------
    assessment : Assessment
        Gives the demand points (rows in the order of the placement problem).
    rows : sequence of int
        Demand rows (e.g. :attr:`PlacementResult.uncoverable`).

    Returns
    -------
    block : dict
        ``count``, ``weight``, ``weight_unit``, ``points``.
    layer : GeoDataFrame
        The points with ``demand_id``, ``weight``, ``road_name``, ``highway`` (WGS84).
    """
    rows = np.asarray(list(rows), dtype=int)
    demand = assessment.demand
    pts = demand.iloc[rows].to_crs(4326)
    road = pts["name"] if "name" in pts else [None] * len(pts)
    layer = pts[[c for c in ("weight", "highway") if c in pts] + [pts.geometry.name]].copy()
    layer.insert(0, "demand_id", rows)
    layer.insert(2, "road_name", list(road))
    layer = layer.reset_index(drop=True)
    weight_unit = "m of road" if "highway" in demand else "as given"
    block = {
        "count": int(len(rows)),
        "weight": float(pts["weight"].sum()) if len(rows) else 0.0,
        "weight_unit": weight_unit,
        "points": [
            {"demand_id": int(r), "lon": float(g.x), "lat": float(g.y), "weight": float(w),
             "road_name": None if n is None or (isinstance(n, float) and np.isnan(n)) else str(n)}
            for r, g, w, n in zip(rows, pts.geometry, pts["weight"], road, strict=True)
        ],
    }
    return block, layer


def placement_summary(run, *, parameters: Mapping | None = None) -> dict:
    """The ``summary.json`` dict of a placement run (see this module's docstring).

    Parameters
    ----------
    run : SitingRun
        From :func:`coverage.siting.site_stations`.
    parameters : mapping, optional
        Run parameters listed in the report.
    """
    base = run.summary()
    before = run_summary(run.before)
    weight_unit = before["demand"]["weight_unit"]
    block, _ = unreachable_demand(run.before, run.result.uncoverable)
    out = {
        "kind": "placement",
        **{k: base.get(k) for k in ("model", "solver", "status", "message", "method", "objective")},
        "objective_text": objective_text(run.result.model, run.result.objective, weight_unit=weight_unit),
        **{k: base.get(k) for k in ("bound", "gap", "solve_s", "build_s")},
        "new_sites": [{k: site.get(k) for k in NEW_SITE_KEYS} for site in base["new_sites"]],
        "candidates": base.get("candidates"),
        "unreachable_demand": block,
        **{k: base.get(k) for k in ("presolve", "details", "rule_violations", "standard")},
        "before": before,
        "after": run_summary(run.after),
        "parameters": dict(parameters or {}),
    }
    check_placement_summary(out)
    return out


def check_placement_summary(summary: Mapping) -> None:
    """Raise ``ValueError`` naming the first difference from the placement schema."""
    keys = tuple(summary)
    if keys != PLACEMENT_KEYS:
        missing = [k for k in PLACEMENT_KEYS if k not in summary]
        extra = [k for k in keys if k not in PLACEMENT_KEYS]
        raise ValueError(f"placement summary keys differ from the schema: missing {missing}, extra {extra}"
                         + ("" if missing or extra else ", order differs"))
    for site in summary["new_sites"]:
        if tuple(site) != NEW_SITE_KEYS:
            raise ValueError(f"new_sites entry has keys {list(site)}, schema {list(NEW_SITE_KEYS)}")
    for side in ("before", "after"):
        if "coverage_share" not in summary[side] or "stations" not in summary[side]:
            raise ValueError(f"the {side} block is not an assessment summary")
