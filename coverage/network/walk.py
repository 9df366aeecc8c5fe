"""Pedestrian (and small-vehicle) travel on the walk network: the micro fire station's model.

A micro fire station (微型消防站) turns out on foot, or on an electric bike or
tricycle, through lanes, steps and courtyards. :class:`WalkModel` says how fast,
and :func:`~coverage.network.load_network` reads the walk ways instead of the
drivable ones when it is given one::

    from coverage.network import load_network
    from coverage.network.walk import MICRO_ON_FOOT
    walk = load_network(osm="yuzhong_walk.osm", boundary=district, travel_model=MICRO_ON_FOOT)

The network is then timed by the same engine as the roads (:mod:`coverage.engine`).

The model
---------
Flat ways take ``length / speed_mps``. A flight of steps (``highway=steps``) is
timed by the height climbed or descended::

    steps   = step_count (apportioned by length along the way) if tagged,
              else horizontal length / step_tread_m
    height  = steps * step_rise_m
    time    = max(height / vertical speed, length / speed_mps)

The vertical speed is ``stair_up_mps`` going up and ``stair_down_mps`` going
down. The direction comes from ``incline=up/down`` (or a signed percentage or
angle) relative to the way's drawing direction; untagged steps are taken as
*up* in both directions (``unknown_stairs="up"``, the conservative reading for a
3-minute standard) or at the mean of the two (``"mean"``). An elevator way
(``highway=elevator``) costs ``elevator_s``. A small vehicle
(``vehicle=True``) may use neither: such edges are removed and counted.

Stair counts are set on the raw OSM edges, before osmnx merges them, and summed
along merged edges, so a merged edge keeps every flight of steps it contains
with its direction.

Sources of the defaults (every value can be overridden with
``dataclasses.replace``):

- step geometry: GB 50352-2019 《民用建筑设计统一标准》 §6.7.1: outdoor steps of
  public buildings have treads of at least 0.30 m and risers of at most 0.15 m;
- walking speed: Fruin (1971), *Pedestrian Planning and Design*: mean free
  walking speed 1.35 m/s on the level; Bohannon (1997), comfortable speed of
  adults 1.3-1.5 m/s;
- stair speed: Fruin (1971): mean horizontal speed on stairs about 0.5 m/s going
  up and 0.65 m/s going down; on 15/30 cm steps the vertical component is half
  of that (0.25 and 0.33 m/s). SFPE Handbook (5th ed., ch. 64, Gwynne &
  Rosenbaum) gives a maximum unimpeded descent of about 1.0 m/s along the pitch
  line on 7/11 stairs;
- small vehicle: GB 17761-2018 caps an electric bicycle's design speed at
  25 km/h; 15 km/h is assumed in lanes shared with pedestrians.

The running-with-equipment figures (2.0 m/s on the level) are assumptions, not
measurements of Chinese micro-station crews: calibrate them with a timed drill.
Slopes of ordinary ways are not penalised (the walk extract has no elevations).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx
import osmnx as ox

from coverage.errors import InputError
from coverage.network.model import NetworkProfile
from coverage.network.osm import WayFilter, parse_overpass_filter
from coverage.network.travel import MIN_TRAVEL_S, tag_values

__all__ = [
    "MICRO_EBIKE",
    "MICRO_ON_FOOT",
    "MICRO_WALKING",
    "STAIR_ATTRS",
    "WALK_PRESETS",
    "WalkModel",
    "apply_walk_model",
    "edge_walk_s",
    "prepare_stairs",
    "walk_filter",
    "with_overrides",
]

#: Per-edge counts set before simplification and summed along merged edges.
STAIR_ATTRS = ("steps_up", "steps_down", "steps_unknown", "stairs_m", "elevators")
_UNKNOWN = ("up", "mean")


def _finite_positive(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


@dataclass(frozen=True)
class WalkModel:
    """How fast a micro-station crew moves on the walk network (module docstring).

    Attributes
    ----------
    name : str
        Label written to reports.
    speed_mps : float
        Speed on level ways, carrying the equipment, m/s.
    stair_up_mps, stair_down_mps : float
        Vertical speed on steps going up and down, m of height per second.
    step_rise_m, step_tread_m : float
        Height and depth of one step, m: turn ``step_count`` into height and an
        untagged flight's horizontal length into steps.
    unknown_stairs : {"up", "mean"}
        Steps without ``incline``: timed as going up both ways (default), or at
        the mean of the up and down times.
    elevator_s : float
        Seconds to take a public elevator way (``highway=elevator``): wait and ride.
    vehicle : bool
        A small vehicle (electric bike, tricycle): steps and elevators are removed.
    access_speed_mps : float, optional
        Speed on the straight legs off the network (station to walkway, walkway to
        the building's door), m/s; default ``speed_mps``. A vehicle's crew covers
        them on foot.
    """

    name: str
    speed_mps: float
    stair_up_mps: float = 0.25
    stair_down_mps: float = 0.33
    step_rise_m: float = 0.15
    step_tread_m: float = 0.30
    unknown_stairs: str = "up"
    elevator_s: float = 90.0
    vehicle: bool = False
    access_speed_mps: float | None = None

    def __post_init__(self) -> None:
        if self.access_speed_mps is not None and not _finite_positive(self.access_speed_mps):
            raise InputError(f"access_speed_mps={self.access_speed_mps!r} is not a number above 0",
                             source=f"WalkModel {self.name!r}",
                             fix="give a speed in m/s, or None for speed_mps")
        for field_name in ("speed_mps", "stair_up_mps", "stair_down_mps", "step_rise_m",
                           "step_tread_m"):
            value = getattr(self, field_name)
            if not _finite_positive(value):
                raise InputError(f"{field_name}={value!r} is not a number above 0",
                                 source=f"WalkModel {self.name!r}",
                                 fix=f"give {field_name} in metres or metres per second, > 0")
        if not (isinstance(self.elevator_s, (int, float)) and math.isfinite(self.elevator_s)
                and self.elevator_s >= 0):
            raise InputError(f"elevator_s={self.elevator_s!r} is negative",
                             source=f"WalkModel {self.name!r}", fix="use 0 or more seconds")
        if self.unknown_stairs not in _UNKNOWN:
            raise InputError(f"unknown_stairs={self.unknown_stairs!r}",
                             source=f"WalkModel {self.name!r}", fix=f"use one of {_UNKNOWN}")

    @property
    def leg_speed_mps(self) -> float:
        """Speed on the straight legs off the network, m/s."""
        return self.speed_mps if self.access_speed_mps is None else self.access_speed_mps

    @property
    def stair_up_s_per_step(self) -> float:
        """Seconds per step going up (``step_rise_m / stair_up_mps``)."""
        return self.step_rise_m / self.stair_up_mps

    @property
    def stair_down_s_per_step(self) -> float:
        """Seconds per step going down."""
        return self.step_rise_m / self.stair_down_mps

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form (reports and cache keys)."""
        return {
            "name": self.name, "speed_mps": float(self.speed_mps),
            "stair_up_mps": float(self.stair_up_mps),
            "stair_down_mps": float(self.stair_down_mps),
            "step_rise_m": float(self.step_rise_m), "step_tread_m": float(self.step_tread_m),
            "unknown_stairs": self.unknown_stairs, "elevator_s": float(self.elevator_s),
            "vehicle": bool(self.vehicle), "access_speed_mps": self.leg_speed_mps,
            "stair_up_s_per_step": self.stair_up_s_per_step,
            "stair_down_s_per_step": self.stair_down_s_per_step,
        }

    def network_profile(self) -> NetworkProfile:
        """The walk profile :func:`~coverage.network.load_network` builds with."""
        return NetworkProfile(
            name="walk", way_filter=walk_filter(), bidirectional=True,
            what="pedestrian way (footway, steps, path, pedestrian street or walkable road)",
            prepare=lambda G: prepare_stairs(G, self), sum_attrs=STAIR_ATTRS,
            apply=lambda G: apply_walk_model(G, self),
        )


#: A crew running with its equipment (hose, extinguishers): assumed 2.0 m/s on the level;
#: on steps the vertical speeds of Fruin's average walker (0.25 up, 0.33 down).
MICRO_ON_FOOT = WalkModel(name="MICRO_ON_FOOT", speed_mps=2.0)
#: Walking pace (Fruin 1971: 1.35 m/s), a little slower on steps (0.20 up, 0.30 m/s down).
MICRO_WALKING = WalkModel(name="MICRO_WALKING", speed_mps=1.35, stair_up_mps=0.20,
                          stair_down_mps=0.30)
#: Electric bike or tricycle at 15 km/h in lanes (GB 17761-2018 cap: 25 km/h); no steps. The
#: crew covers the last stretch to the door on foot, at MICRO_ON_FOOT's 2.0 m/s.
MICRO_EBIKE = WalkModel(name="MICRO_EBIKE", speed_mps=15 / 3.6, vehicle=True,
                        access_speed_mps=2.0)
WALK_PRESETS = {"on_foot": MICRO_ON_FOOT, "walking": MICRO_WALKING, "ebike": MICRO_EBIKE}


def walk_filter() -> WayFilter:
    """osmnx's ``"walk"`` way filter, parsed so that files and Overpass agree clause for clause."""
    return WayFilter((parse_overpass_filter(ox._overpass._get_network_filter("walk")),))


_NUMBER = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*(%|°)?$")


def _incline_sign(value: Any) -> int:
    """+1 up, -1 down along the way's direction, 0 unknown (``incline`` tag)."""
    for text in tag_values(value):
        low = text.lower()
        if low == "up":
            return 1
        if low == "down":
            return -1
        m = _NUMBER.match(low)
        if m and float(m.group(1).replace(",", ".")) != 0:
            return 1 if float(m.group(1).replace(",", ".")) > 0 else -1
    return 0


def _step_count(value: Any) -> float | None:
    for text in tag_values(value):
        try:
            n = float(text)
        except ValueError:
            continue
        if math.isfinite(n) and n > 0:
            return n
    return None


def prepare_stairs(G: nx.MultiDiGraph, model: WalkModel) -> nx.MultiDiGraph:
    """Set :data:`STAIR_ATTRS` on every raw edge, in place, and return ``G``.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Unsimplified osmnx graph: edges with ``length`` (m), ``highway``, ``osmid``,
        ``reversed`` (osmnx's flag for the edge drawn against the way) and optional
        ``step_count`` and ``incline``.
    model : WalkModel

    Returns
    -------
    networkx.MultiDiGraph
        ``G``, each edge with ``steps_up``, ``steps_down``, ``steps_unknown``
        (steps climbed, descended or of unknown direction along u -> v),
        ``stairs_m`` (metres of steps) and ``elevators`` (0 or 1).
    """
    way_m: Counter = Counter()
    for _, _, d in G.edges(data=True):
        if d.get("highway") == "steps" and not d.get("reversed", False):
            way_m[d["osmid"]] += float(d["length"])
    for _, _, d in G.edges(data=True):
        d.update(steps_up=0.0, steps_down=0.0, steps_unknown=0.0, stairs_m=0.0,
                 elevators=int(d.get("highway") == "elevator"))
        if d.get("highway") != "steps":
            continue
        length = float(d["length"])
        count = _step_count(d.get("step_count"))
        total_m = way_m.get(d["osmid"], 0.0)
        if count is not None and total_m > 0:
            steps = count * length / total_m
        else:
            steps = length / model.step_tread_m
        sign = _incline_sign(d.get("incline")) * (-1 if d.get("reversed", False) else 1)
        key = {1: "steps_up", -1: "steps_down", 0: "steps_unknown"}[sign]
        d[key] = steps
        d["stairs_m"] = length
    return G


def edge_walk_s(length_m: float, steps_up: float, steps_down: float, steps_unknown: float,
                stairs_m: float, elevators: int, model: WalkModel) -> float:
    """Seconds to traverse one edge under ``model`` (module docstring formula).

    Parameters
    ----------
    length_m : float
        Horizontal length of the edge, m.
    steps_up, steps_down, steps_unknown : float
        Steps climbed, descended and of unknown direction along the edge.
    stairs_m : float
        Horizontal metres of the edge that are steps.
    elevators : int
        Elevator ways on the edge.
    model : WalkModel
    """
    flat_m = max(length_m - stairs_m, 0.0)
    up_s = model.step_rise_m / model.stair_up_mps
    down_s = model.step_rise_m / model.stair_down_mps
    unknown_s = up_s if model.unknown_stairs == "up" else (up_s + down_s) / 2
    climb_s = steps_up * up_s + steps_down * down_s + steps_unknown * unknown_s
    stairs_s = max(climb_s, stairs_m / model.speed_mps) if stairs_m > 0 else 0.0
    total = flat_m / model.speed_mps + stairs_s + elevators * model.elevator_s
    return max(float(total), MIN_TRAVEL_S)


def apply_walk_model(
    G: nx.MultiDiGraph, model: WalkModel
) -> tuple[nx.MultiDiGraph, dict[str, int]]:
    """Set ``travel_s`` and ``speed_kph`` on every edge; a vehicle loses steps and elevators.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Edges with ``length`` and the :data:`STAIR_ATTRS` set by :func:`prepare_stairs`
        (absent counts are zero).
    model : WalkModel

    Returns
    -------
    G : networkx.MultiDiGraph
        A copy without the edges the model cannot pass.
    dropped : dict[str, int]
        Edges removed per reason.
    """
    H = G.copy()
    remove, drops = [], []
    for u, v, k, d in H.edges(keys=True, data=True):
        counts = {a: float(d.get(a, 0) or 0) for a in STAIR_ATTRS}
        if model.vehicle and (counts["stairs_m"] > 0 or counts["elevators"] > 0):
            remove.append((u, v, k))
            what = "steps" if counts["stairs_m"] > 0 else "elevator"
            drops.append(f"{what}: not passable by {model.name}")
            continue
        travel = edge_walk_s(float(d["length"]), counts["steps_up"], counts["steps_down"],
                             counts["steps_unknown"], counts["stairs_m"],
                             int(counts["elevators"]), model)
        d.update({a: counts[a] for a in STAIR_ATTRS})
        d["travel_s"] = travel
        d["speed_kph"] = float(d["length"]) / travel * 3.6
    H.remove_edges_from(remove)
    return H, dict(Counter(drops))


def with_overrides(model: WalkModel, **overrides: Any) -> WalkModel:
    """``model`` with the given fields replaced; ``None`` values are ignored."""
    return replace(model, **{k: v for k, v in overrides.items() if v is not None})
