"""Coverage assessment: demand → access → first/second due → districts, radii, metrics.

One concern per module, data flowing down this list; nothing here imports the siting,
the outputs or the CLI:

- :mod:`~coverage.assess.access`: the access rule (drive to an access point, then on foot; hose limit);
- :mod:`~coverage.assess.grid`: the land grid (cells clipped to the boundary, less water);
- :mod:`~coverage.assess.demand`: :class:`DemandSet` (land, road samples, weighted point layers);
- :mod:`~coverage.assess.districts`: districts from land cells, pieces, clean-up, protection radii;
- :mod:`~coverage.assess.highrise`: high-rise reach by aerial apparatus;
- :mod:`~coverage.assess.isochrones`: service areas;
- :mod:`~coverage.assess.metrics`: coverage shares, percentiles, CDF;
- :mod:`~coverage.assess.assessment`: :func:`assess`, the entry point, on top.
"""

from coverage.assess.access import DEFAULT_ACCESS, AccessRule
from coverage.assess.assessment import Assessment, assess, station_table
from coverage.assess.demand import DemandSet

__all__ = ["Assessment", "AccessRule", "DEFAULT_ACCESS", "DemandSet", "assess", "station_table"]
