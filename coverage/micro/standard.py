"""The micro fire station's response rule, as a named preset (one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass

from coverage.errors import InputError

__all__ = ["MICRO_3MIN", "MicroStandard"]


@dataclass(frozen=True)
class MicroStandard:
    """Turnout plus travel limit for a micro fire station.

    Attributes
    ----------
    name : str
    clause : str
        Where the rule comes from.
    turnout_s : float
        Seconds from the call to leaving the station.
    travel_s : float
        Seconds allowed on the way (walk network time plus the straight legs from
        the station and to the building).
    """

    name: str
    clause: str
    turnout_s: float = 60.0
    travel_s: float = 180.0

    def __post_init__(self) -> None:
        for label in ("turnout_s", "travel_s"):
            value = getattr(self, label)
            if not (isinstance(value, (int, float)) and value >= 0):
                raise InputError(f"{label}={value!r} is not a number of seconds >= 0",
                                 source=f"MicroStandard {self.name!r}", fix="give seconds")

    @property
    def response_s(self) -> float:
        """Turnout plus travel, seconds."""
        return self.turnout_s + self.travel_s


#: 公安部消防局《消防安全重点单位微型消防站建设标准（试行）》and《社区微型消防站建设标准
#: （试行）》(2015, 公消〔2015〕301号): "1分钟响应启动、3分钟到场扑救".
MICRO_3MIN = MicroStandard(
    name="MICRO_3MIN",
    clause="公消〔2015〕301号 微型消防站建设标准（试行）: 1分钟响应启动、3分钟到场扑救 "
    "(1 min turnout, 3 min to arrive)",
)
