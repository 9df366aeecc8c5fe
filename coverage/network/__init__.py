"""Road network for emergency vehicles: OSM in, a routable :class:`RoadNetwork` out.

Entry point: :func:`load_network`. Travel speeds and restrictions:
:class:`TravelModel` with the presets :data:`CHINA_URBAN` and :data:`NFPA_ISO`.
"""

from coverage.network.build import load_network
from coverage.network.model import NetworkReport, RoadNetwork
from coverage.network.osm import emergency_filter
from coverage.network.travel import CHINA_URBAN, NFPA_ISO, TravelModel, apply_travel_model

__all__ = [
    "CHINA_URBAN",
    "NFPA_ISO",
    "NetworkReport",
    "RoadNetwork",
    "TravelModel",
    "apply_travel_model",
    "emergency_filter",
    "load_network",
]
