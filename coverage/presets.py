"""Standards as data: one source of truth for every regulatory value.

Each value is a named field of a frozen dataclass and names the clause it comes
from, so a report can cite it and a user can override it with
:func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class StationType:
    """A class of fire station and its district-area cap.

    Attributes
    ----------
    code : str
        Short code used in data files (``level1``, ``level2``, ``special``, ``small``).
    name_zh : str
        The Chinese name as written in 建标152-2017.
    area_cap_km2 : float
        Largest district (辖区) area allowed, km².
    is_full : bool
        True for full stations (一级, 二级, 特勤); a small station's district must
        border the district of a full station.
    clause : str
        Where the cap comes from.
    """

    code: str
    name_zh: str
    area_cap_km2: float
    is_full: bool
    clause: str


STATION_TYPES: Mapping[str, StationType] = MappingProxyType(
    {
        "level1": StationType("level1", "一级站", 7.0, True, "建标152-2017 第十二条; GB 51080-2015 §4.1.3"),
        "level2": StationType("level2", "二级站", 4.0, True, "建标152-2017 第十二条; GB 51080-2015 §4.1.3"),
        "special": StationType("special", "特勤站", 7.0, True, "建标152-2017 第十二条 (特勤站兼有辖区时按一级站)"),
        "small": StationType("small", "小型站", 2.0, False, "建标152-2017 第十二条; GB 51080-2015 §4.1.3"),
    }
)

#: Spellings accepted in a station layer's ``type`` column, mapped to a code.
STATION_TYPE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "level1": "level1", "一级": "level1", "一级站": "level1", "一级普通消防站": "level1", "1": "level1",
        "level2": "level2", "二级": "level2", "二级站": "level2", "二级普通消防站": "level2", "2": "level2",
        "special": "special", "特勤": "special", "特勤站": "special", "特勤消防站": "special",
        "small": "small", "小型": "small", "小型站": "small", "小型普通消防站": "small", "小型消防站": "small",
    }
)


def station_type(value: str) -> StationType:
    """Return the :class:`StationType` for a code or any accepted spelling.

    Raises
    ------
    KeyError
        If the spelling is unknown; the message lists the accepted ones.
    """
    code = STATION_TYPE_ALIASES.get(str(value).strip().lower()) or STATION_TYPE_ALIASES.get(str(value).strip())
    if code is None:
        raise KeyError(
            f"unknown station type {value!r}; use one of {sorted(set(STATION_TYPE_ALIASES))}"
        )
    return STATION_TYPES[code]


@dataclass(frozen=True)
class ResponseStandard:
    """A response-time standard.

    Attributes
    ----------
    name : str
        Preset key (``gb51080`` or ``nfpa1710``).
    turnout_s : float
        Seconds from dispatch to wheels rolling.
    travel_threshold_s : float
        Driving seconds allowed to reach the demand point.
    percentile : float
        Share of demand that must be reached in time (1.0 = every point, the
        Chinese reading; 0.9 = NFPA's 90th percentile).
    area_caps_km2 : Mapping[str, float]
        District-area cap per station-type code.
    clause : str
        The citation.
    """

    name: str
    turnout_s: float
    travel_threshold_s: float
    percentile: float
    area_caps_km2: Mapping[str, float] = field(default_factory=dict)
    clause: str = ""

    @property
    def response_threshold_s(self) -> float:
        """Turnout plus travel, seconds."""
        return self.turnout_s + self.travel_threshold_s


STANDARDS: Mapping[str, ResponseStandard] = MappingProxyType(
    {
        "gb51080": ResponseStandard(
            name="gb51080",
            turnout_s=60.0,
            travel_threshold_s=240.0,
            percentile=1.0,
            area_caps_km2=MappingProxyType({k: v.area_cap_km2 for k, v in STATION_TYPES.items()}),
            clause="GB 51080-2015 §4.1.3; 建标152-2017: 接警后5 min到达辖区边缘 (1 min 出动 + 4 min 行车)",
        ),
        "nfpa1710": ResponseStandard(
            name="nfpa1710",
            turnout_s=80.0,
            travel_threshold_s=240.0,
            percentile=0.9,
            area_caps_km2=MappingProxyType({}),
            clause="NFPA 1710 (2020) §4.1.2.1: 80 s turnout (fire), 240 s travel, 90th percentile",
        ),
    }
)


def response_standard(name: str) -> ResponseStandard:
    """Return a response-standard preset by name (``gb51080`` or ``nfpa1710``)."""
    try:
        return STANDARDS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown standard {name!r}; use one of {sorted(STANDARDS)}") from None


@dataclass(frozen=True)
class HydrantRules:
    """Municipal fire-hydrant rules (GB 50974-2014 §7.2).

    Attributes
    ----------
    protection_radius_m : float
        A road point is covered when an in-service hydrant lies within this
        distance (§7.2.5: 保护半径不应超过150 m).
    max_spacing_m : float
        Largest gap between consecutive hydrants along a road (§7.2.5: 间距不应大于120 m).
    both_sides_width_m : float
        Roads wider than this need hydrants on both sides (§7.2.4: 道路宽度超过60 m时宜两侧设置).
    max_offset_from_carriageway_m : float
        Hydrant to carriageway edge, at most (§7.2.6: 距路边不宜小于0.5 m, 不应大于2 m).
    min_distance_to_wall_m : float
        Hydrant to building wall, at least (§7.2.6: 距建筑外墙不宜小于5 m).
    in_service_target : float
        Share of hydrants in service required by the Yuzhong plan (完好率 ≥ 98 %).
    candidate_step_m : float
        Spacing of candidate sites along roads for new-hydrant proposals.
    """

    protection_radius_m: float = 150.0
    max_spacing_m: float = 120.0
    both_sides_width_m: float = 60.0
    max_offset_from_carriageway_m: float = 2.0
    min_distance_to_wall_m: float = 5.0
    in_service_target: float = 0.98
    candidate_step_m: float = 20.0
    clause: str = "GB 50974-2014 §7.2.4–§7.2.6"


GB50974 = HydrantRules()
