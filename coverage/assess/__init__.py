"""Coverage assessment: demand → access → first/second due → districts, radii, metrics.

One concern per module, data flowing down this list; nothing here imports the siting,
the outputs or the CLI:

- :mod:`~coverage.assess.demand`: demand points (road samples, weighted point layers) and snapping;
- :mod:`~coverage.assess.districts`: districts from land cells, protection radii;
- :mod:`~coverage.assess.isochrones`: service areas;
- :mod:`~coverage.assess.metrics`: coverage shares, percentiles, CDF;
- :mod:`~coverage.assess.assessment`: :func:`assess`, the entry point, on top.
"""

from coverage.assess.assessment import Assessment, DemandSet, assess, station_table

__all__ = ["Assessment", "DemandSet", "assess", "station_table"]
