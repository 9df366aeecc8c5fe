"""Travel model: how fast a fire engine drives each road, and which roads it cannot use.

A :class:`TravelModel` turns normalised edge attributes (``length``, ``highway``,
``maxspeed``, ``maxheight``, the ``signals`` count and node ``elevation``) into
``speed_kph`` and ``travel_s`` with :func:`apply_travel_model`. Two presets are
provided, :data:`CHINA_URBAN` and :data:`NFPA_ISO`; every field can be overridden
with :func:`dataclasses.replace`.

The per-class speeds in the presets are **planning assumptions**, not measured
values: calibrate them against dispatch records (AVL/GPS run times) before using
the results for a decision.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import networkx as nx

from coverage.errors import InputError

__all__ = [
    "CHINA_URBAN",
    "HIGHWAY_RANK",
    "MIN_TRAVEL_S",
    "NFPA_ISO",
    "TravelModel",
    "apply_travel_model",
    "class_speed_kph",
    "most_important_highway",
    "parse_length_m",
    "parse_maxspeed_kph",
    "tag_values",
]

MPH = 1.609344  # km per mile
KNOT = 1.852  # km per nautical mile
FOOT = 0.3048  # m
INCH = 0.0254  # m

#: OSM highway classes from most to least important. Used to pick one class for
#: an edge that osmnx merged from ways of several classes.
HIGHWAY_RANK: tuple[str, ...] = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "busway", "living_street", "service", "road", "track",
)


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class TravelModel:
    """Fire-engine travel speeds and restrictions.

    Attributes
    ----------
    name : str
        Label written to reports.
    speeds_kph : Mapping[str, float]
        Free-flow driving speed of a responding engine per OSM ``highway`` class,
        km/h. A ``*_link`` class missing from the table uses its parent class
        (``primary_link`` -> ``primary``); any other missing class uses
        ``fallback_speed_kph``.
    fallback_speed_kph : float
        Speed for classes the table does not list, km/h.
    congestion_factor : float
        Multiplier (>= 1.0) on every edge's travel time, for peak-hour or
        otherwise slowed traffic. 1.0 means free flow.
    respect_maxspeed : bool
        If True, the speed on an edge is ``min(class speed, tagged maxspeed)``
        wherever ``maxspeed`` parses (see :func:`parse_maxspeed_kph`).
    apparatus_height_m : float
        Height of the tallest responding appliance, m. Edges whose ``maxheight``
        parses below it are removed (for example Yuzhong's underground ring
        road, ``maxheight=2.3``).
    signal_delay_s : float
        Extra seconds added per traffic-signal node (``highway=traffic_signals``)
        an edge passes through or ends at, including signal nodes that osmnx
        simplification removed from the middle of the edge.
    uphill_penalty_per_grade : float
        ``k`` in ``time * (1 + k * max(grade, 0))`` where nodes carry
        ``elevation`` (m) and ``grade`` is rise over run from ``u`` to ``v``.
        0.0 disables the penalty. Downhill edges are not sped up.
    """

    name: str
    speeds_kph: Mapping[str, float]
    fallback_speed_kph: float
    congestion_factor: float = 1.0
    respect_maxspeed: bool = True
    apparatus_height_m: float = 3.2
    signal_delay_s: float = 0.0
    uphill_penalty_per_grade: float = 0.0

    def __post_init__(self) -> None:
        # Freeze the table so that a preset cannot be changed in place by accident.
        object.__setattr__(self, "speeds_kph", _frozen(self.speeds_kph))
        bad = {k: v for k, v in self.speeds_kph.items() if not _positive(v)}
        checks = [
            (bool(bad), f"speeds_kph has non-positive or non-numeric speeds {bad}",
             "give every class a speed above 0 km/h"),
            (not _positive(self.fallback_speed_kph),
             f"fallback_speed_kph={self.fallback_speed_kph!r} is not above 0",
             "give a speed above 0 km/h"),
            (not (_finite(self.congestion_factor) and self.congestion_factor >= 1.0),
             f"congestion_factor={self.congestion_factor!r} is below 1.0",
             "use 1.0 for free flow, larger values for slower traffic"),
            (not (_finite(self.apparatus_height_m) and self.apparatus_height_m >= 0),
             f"apparatus_height_m={self.apparatus_height_m!r} is negative",
             "give the appliance height in metres"),
            (not (_finite(self.signal_delay_s) and self.signal_delay_s >= 0),
             f"signal_delay_s={self.signal_delay_s!r} is negative", "use 0 or more seconds"),
            (not (_finite(self.uphill_penalty_per_grade) and self.uphill_penalty_per_grade >= 0),
             f"uphill_penalty_per_grade={self.uphill_penalty_per_grade!r} is negative",
             "use 0 or a positive factor"),
        ]
        for failed, problem, fix in checks:
            if failed:
                raise InputError(problem, source=f"TravelModel {self.name!r}", fix=fix)

    def __hash__(self) -> int:
        # The generated hash would fail on the speed table (a mapping).
        return hash(tuple(sorted(self.speeds_kph.items()))) ^ hash(
            tuple(v for k, v in self.as_dict().items() if k != "speeds_kph"))

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form (for reports and cache keys)."""
        return {
            "name": self.name,
            "speeds_kph": dict(sorted(self.speeds_kph.items())),
            "fallback_speed_kph": float(self.fallback_speed_kph),
            "congestion_factor": float(self.congestion_factor),
            "respect_maxspeed": bool(self.respect_maxspeed),
            "apparatus_height_m": float(self.apparatus_height_m),
            "signal_delay_s": float(self.signal_delay_s),
            "uphill_penalty_per_grade": float(self.uphill_penalty_per_grade),
        }


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _positive(x: Any) -> bool:
    return _finite(x) and x > 0


#: Urban fire-engine speeds for Chinese cities (km/h). Assumptions: the 5-minute
#: arrival rule of GB 51080-2015 §4.1.3 and the district sizes of 建标152-2017 are
#: commonly explained with an average engine speed of about 30 km/h; here arterials
#: (主干路 = OSM primary) get 40, secondary roads (次干路) 35, branch roads (支路 =
#: tertiary/unclassified/residential) 30-20, expressways (快速路 = OSM trunk or
#: motorway) 45-50, and ramps and lanes less. Not measured: calibrate locally.
CHINA_URBAN = TravelModel(
    name="CHINA_URBAN",
    speeds_kph={
        "motorway": 50.0, "motorway_link": 30.0,
        "trunk": 45.0, "trunk_link": 30.0,
        "primary": 40.0, "primary_link": 25.0,
        "secondary": 35.0, "secondary_link": 25.0,
        "tertiary": 30.0, "tertiary_link": 20.0,
        "unclassified": 25.0, "residential": 20.0, "road": 20.0,
        "busway": 30.0, "living_street": 10.0, "service": 15.0,
    },
    fallback_speed_kph=20.0,
)

#: US-style speeds (km/h, converted from mph). Assumptions: ISO's Public Protection
#: Classification response-distance rule and the NFPA/RAND travel-time formula
#: ``t = 0.65 + 1.7 d`` (minutes, miles) both imply an average of about 35 mph on
#: main roads; residential streets get 25 mph, freeways 55 mph, ramps and lanes less.
#: Not taken from a standard table: calibrate locally.
NFPA_ISO = TravelModel(
    name="NFPA_ISO",
    speeds_kph={
        "motorway": 55 * MPH, "motorway_link": 35 * MPH,
        "trunk": 45 * MPH, "trunk_link": 30 * MPH,
        "primary": 35 * MPH, "primary_link": 25 * MPH,
        "secondary": 35 * MPH, "secondary_link": 25 * MPH,
        "tertiary": 30 * MPH, "tertiary_link": 20 * MPH,
        "unclassified": 25 * MPH, "residential": 25 * MPH, "road": 25 * MPH,
        "busway": 30 * MPH, "living_street": 10 * MPH, "service": 15 * MPH,
    },
    fallback_speed_kph=25 * MPH,
)


def tag_values(value: Any) -> list[str]:
    """Split an osmnx edge attribute (a string, a list after simplification, or
    ``"a;b"`` OSM multi-values) into stripped strings; ``[]`` for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    items = value if isinstance(value, (list, tuple, set)) else [value]
    return [p.strip() for item in items for p in str(item).split(";") if p.strip()]


def most_important_highway(value: Any) -> str:
    """One OSM highway class for an edge: the most important of a merged list.

    Parameters
    ----------
    value : str or list of str
        The osmnx ``highway`` edge attribute.

    Returns
    -------
    str
        The class that ranks highest in :data:`HIGHWAY_RANK`; classes not in the
        table rank last (ties broken alphabetically); ``"road"`` if empty.
    """
    classes = tag_values(value)
    if not classes:
        return "road"
    order = {c: i for i, c in enumerate(HIGHWAY_RANK)}
    return min(classes, key=lambda c: (order.get(c, len(order)), c))


def class_speed_kph(highway: str, model: TravelModel) -> float:
    """Speed for one highway class under ``model`` (km/h), with ``*_link`` falling
    back to the parent class and unknown classes to ``fallback_speed_kph``."""
    if highway in model.speeds_kph:
        return float(model.speeds_kph[highway])
    if highway.endswith("_link") and highway[: -len("_link")] in model.speeds_kph:
        return float(model.speeds_kph[highway[: -len("_link")]])
    return float(model.fallback_speed_kph)


_SPEED = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?$", re.IGNORECASE)
_ZONE = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]+)?:zone:?(\d+)$", re.IGNORECASE)
#: Implicit limits ("CN:urban") that mean the same in most countries, km/h. China's
#: Road Traffic Safety Law regulations (art. 45) give 50 km/h on urban roads with one
#: lane per direction. Country-specific rural or motorway defaults are not guessed.
_IMPLICIT_KPH = {"urban": 50.0, "living_street": 20.0}


def _one_maxspeed(text: str) -> float | None:
    m = _SPEED.match(text)
    if m:
        number = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "km/h").lower()
        factor = {"mph": MPH, "knots": KNOT}.get(unit, 1.0)
        return number * factor if number > 0 else None
    m = _ZONE.match(text)
    if m:
        return float(m.group(1))
    if ":" in text:
        return _IMPLICIT_KPH.get(text.split(":", 1)[1].lower())
    return None  # "none", "signals", "variable", "walk" and the like: no usable number


def parse_maxspeed_kph(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` tag to km/h.

    Parameters
    ----------
    value : str, list of str or None
        ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"10 knots"``, ``"CN:urban"``,
        ``"DE:zone30"``, ``"50;30"`` or an osmnx list of such values.

    Returns
    -------
    float or None
        The mean of the values that parse (osmnx's ``add_edge_speeds`` convention
        for merged edges), or None when none does (``"none"``, ``"signals"``,
        ``"variable"``, country rural/motorway defaults, missing tag).
    """
    speeds = [s for s in (_one_maxspeed(v) for v in tag_values(value)) if s is not None]
    return sum(speeds) / len(speeds) if speeds else None


_METRES = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(m|meters?|metres?)?$", re.IGNORECASE)
_FEET = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(?:'|ft|feet)\s*(?:(\d+(?:\.\d+)?)\s*(?:\"|in|inch|inches))?$",
    re.IGNORECASE,
)
_INCHES = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:\"|in|inch|inches)$", re.IGNORECASE)


def _one_length(text: str) -> float | None:
    m = _METRES.match(text)
    if m:
        return float(m.group(1).replace(",", "."))
    m = _FEET.match(text)
    if m:
        return float(m.group(1)) * FOOT + float(m.group(2) or 0) * INCH
    m = _INCHES.match(text)
    if m:
        return float(m.group(1)) * INCH
    return None  # "default", "none", "below_default", "no_sign": no usable number


def parse_length_m(value: Any) -> float | None:
    """Parse an OSM length tag (``maxheight``, ``width``) to metres.

    Parameters
    ----------
    value : str, list of str or None
        ``"2.3"``, ``"2.3 m"``, ``"2,3"``, ``"7'6\\""``, ``"7 ft 6 in"`` or an osmnx
        list of such values.

    Returns
    -------
    float or None
        The smallest value that parses (the binding one for clearance and
        width), or None when none does (``"default"``, ``"none"``,
        ``"below_default"``, missing tag).
    """
    lengths = [x for x in (_one_length(v) for v in tag_values(value)) if x is not None]
    return min(lengths) if lengths else None


def _grade(G: nx.MultiDiGraph, u: Any, v: Any, length: float) -> float:
    eu = G.nodes[u].get("elevation")
    ev = G.nodes[v].get("elevation")
    if eu is None or ev is None or not length > 0:
        return 0.0
    grade = (float(ev) - float(eu)) / length
    return grade if math.isfinite(grade) else 0.0  # NaN where the DEM has no data


#: Floor on ``travel_s`` so that zero-length OSM edges still have a positive weight.
MIN_TRAVEL_S = 0.01


def apply_travel_model(
    G: nx.MultiDiGraph, model: TravelModel
) -> tuple[nx.MultiDiGraph, dict[str, int]]:
    """Set ``speed_kph`` and ``travel_s`` on every edge and drop impassable edges.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Edges need ``length`` (m) and ``highway``; optional ``maxspeed``,
        ``maxheight`` (raw OSM strings or osmnx lists) and ``signals`` (count of
        traffic-signal nodes on the edge). Nodes may carry ``elevation`` (m).
    model : TravelModel
        Speeds and restrictions.

    Returns
    -------
    G : networkx.MultiDiGraph
        A copy of ``G`` without the impassable edges, every remaining edge with
        ``speed_kph`` (km/h) and ``travel_s`` (s, > 0). Nodes are not removed
        here: the connectivity filter downstream does that.
    dropped : dict[str, int]
        Number of edges removed per reason, e.g.
        ``{"maxheight 2.3 m < apparatus 3.2 m": 19}``.

    Notes
    -----
    ``travel_s = (length / speed * (1 + k * max(grade, 0)) + signals * signal_delay_s)
    * congestion_factor``, floored at :data:`MIN_TRAVEL_S`.
    """
    H = G.copy()
    drops: list[str] = []
    remove: list[tuple[Any, Any, Any]] = []
    for u, v, k, data in H.edges(keys=True, data=True):
        clearance = parse_length_m(data.get("maxheight"))
        if clearance is not None and clearance < model.apparatus_height_m:
            remove.append((u, v, k))
            drops.append(f"maxheight {clearance:g} m < apparatus {model.apparatus_height_m:g} m")
            continue
        speed = class_speed_kph(most_important_highway(data.get("highway")), model)
        if model.respect_maxspeed:
            limit = parse_maxspeed_kph(data.get("maxspeed"))
            if limit is not None:
                speed = min(speed, limit)
        length = float(data["length"])
        run_s = length / (speed / 3.6)
        run_s *= 1.0 + model.uphill_penalty_per_grade * max(_grade(H, u, v, length), 0.0)
        signals = int(data.get("signals", 0) or 0)
        total = (run_s + signals * model.signal_delay_s) * model.congestion_factor
        data["speed_kph"] = float(speed)
        data["travel_s"] = max(float(total), MIN_TRAVEL_S)
    H.remove_edges_from(remove)
    return H, dict(Counter(drops))

