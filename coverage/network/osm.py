"""Reading OSM roads for emergency vehicles, online (Overpass via osmnx) or from a file.

The way filter is osmnx's own ``"drive"`` filter, parsed from the Overpass QL that
osmnx sends (so the offline reader and the online query agree clause for clause),
widened by the ways that the drive filter excludes only because they are reserved
for emergency or public-service vehicles:

- ``access``, ``motor_vehicle`` or ``motorcar`` = ``emergency`` or ``psv``;
- ``emergency`` = ``yes`` or ``designated``;
- ``psv`` = ``yes`` or ``designated``;
- ``service=emergency_access``.

Such a way passes if it passes the drive filter with the ``access``,
``motor_vehicle``, ``motorcar`` and ``service`` clauses waived and with
``highway=service`` allowed. Footways, pedestrian streets, tracks and the like stay
out even when tagged ``emergency=yes``: the designation only lifts restrictions that
exist because the road is reserved for such vehicles.

Files are read with pyosmium (``.osm``, ``.osm.pbf``, ``.osm.bz2``...). The ways that
pass the filter and touch the study area's bounding box are written with their nodes
to a temporary OSM XML file, which ``osmnx.graph_from_xml`` turns into a graph, so
both paths build the graph by osmnx's rules.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import osmium
import osmnx as ox
from tqdm.auto import tqdm

from coverage.errors import InputError

__all__ = [
    "EMERGENCY_DESIGNATIONS",
    "WAY_TAGS",
    "Clause",
    "WayFilter",
    "download_graph",
    "emergency_filter",
    "osm_tag_settings",
    "parse_overpass_filter",
    "read_osm_file",
]

#: OSM way tags kept as edge attributes (osmnx keeps only ``settings.useful_tags_way``).
WAY_TAGS: tuple[str, ...] = (
    "highway", "name", "oneway", "maxspeed", "maxheight", "access", "motor_vehicle",
    "motorcar", "emergency", "psv", "service", "bridge", "tunnel", "width", "lanes", "layer",
    "step_count", "incline",
)


@contextmanager
def osm_tag_settings() -> Iterator[None]:
    """Extend ``osmnx.settings.useful_tags_way`` with :data:`WAY_TAGS` (and the node
    tags with ``highway``, for traffic signals), then restore both."""
    saved_way, saved_node = ox.settings.useful_tags_way, ox.settings.useful_tags_node
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved_way, *WAY_TAGS]))
    ox.settings.useful_tags_node = list(dict.fromkeys([*saved_node, "highway"]))
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node = saved_way, saved_node


@dataclass(frozen=True)
class Clause:
    """One Overpass QL tag clause, e.g. ``["highway"!~"footway|path"]``.

    ``op`` is ``""`` (key present), ``"="``, ``"!="``, ``"~"`` or ``"!~"``. Regexes
    are matched unanchored, as Overpass does; a negated clause also matches ways
    without the key.
    """

    key: str
    op: str = ""
    value: str = ""

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Whether a way with these tags satisfies the clause."""
        present = self.key in tags
        if self.op == "":
            return present
        actual = tags.get(self.key)
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = present and re.search(self.value, actual) is not None
        return found if self.op == "~" else not found

    def overpass(self) -> str:
        """The clause in Overpass QL."""
        if self.op == "":
            return f'["{self.key}"]'
        return f'["{self.key}"{self.op}"{self.value}"]'


_CLAUSE = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!=|=|!~|~)"(?P<value>[^"]*)")?\]')


def parse_overpass_filter(text: str) -> tuple[Clause, ...]:
    """Parse an osmnx way filter (a run of ``["key"op"value"]`` clauses).

    Raises
    ------
    RuntimeError
        If the text holds anything else: osmnx changed its filter syntax and
        this parser must be updated before offline and online results can agree.
    """
    clauses, pos = [], 0
    for m in _CLAUSE.finditer(text):
        if m.start() != pos:
            break
        clauses.append(Clause(m["key"], m["op"] or "", m["value"] or ""))
        pos = m.end()
    if pos != len(text) or not clauses:
        raise RuntimeError(f"Cannot parse the osmnx way filter {text!r} at character {pos}.")
    return tuple(clauses)


@dataclass(frozen=True)
class WayFilter:
    """A union of clause conjunctions: a way passes if it satisfies every clause of
    at least one conjunction (osmnx sends a list ``custom_filter`` the same way)."""

    conjunctions: tuple[tuple[Clause, ...], ...]

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Whether a way with these tags passes."""
        return any(all(c.matches(tags) for c in conj) for conj in self.conjunctions)

    def overpass(self) -> list[str]:
        """The filter as an osmnx ``custom_filter`` list."""
        return ["".join(c.overpass() for c in conj) for conj in self.conjunctions]


_RESERVED = "^(emergency|psv)$"
_YES = "^(yes|designated)$"
#: Tags marking a way as reserved for emergency or public-service vehicles.
EMERGENCY_DESIGNATIONS: tuple[Clause, ...] = (
    Clause("access", "~", _RESERVED),
    Clause("motor_vehicle", "~", _RESERVED),
    Clause("motorcar", "~", _RESERVED),
    Clause("emergency", "~", _YES),
    Clause("psv", "~", _YES),
    Clause("service", "=", "emergency_access"),
)
_WAIVED_KEYS = frozenset({"access", "motor_vehicle", "motorcar", "service"})


def _waive(clause: Clause) -> Clause | None:
    """The drive clause as it applies to a way reserved for emergency vehicles."""
    if clause.key in _WAIVED_KEYS:
        return None
    if clause.key == "highway" and clause.op == "!~":
        alternatives = clause.value.split("|")
        if not all(re.fullmatch(r"\w+", a) for a in alternatives):
            raise RuntimeError(f"Unexpected highway clause in the osmnx drive filter: {clause}")
        return Clause("highway", "!~", "|".join(a for a in alternatives if a != "service"))
    return clause


def emergency_filter() -> WayFilter:
    """osmnx's ``"drive"`` filter plus emergency/public-service ways (module docstring).

    Derived from ``osmnx`` at call time, so it follows ``ox.settings.default_access``.
    """
    drive = parse_overpass_filter(ox._overpass._get_network_filter("drive"))
    waived = tuple(c for c in (_waive(c) for c in drive) if c is not None)
    return WayFilter((drive, *((*waived, d) for d in EMERGENCY_DESIGNATIONS)))


@dataclass(frozen=True)
class ExtractStats:
    """What the file pass kept: ``ways`` written, of which ``clipped`` ways were cut
    to their longest run of nodes present in the file (the file is a clipped
    extract), and ``incomplete`` ways skipped because fewer than two consecutive
    nodes are present."""

    ways: int
    clipped: int
    incomplete: int


def _longest_present_run(way: Any) -> list[int]:
    """Node refs of the longest run of consecutive nodes whose location the file has."""
    best: list[int] = []
    run: list[int] = []
    for node in way.nodes:
        if node.location.valid():
            run.append(node.ref)
            if len(run) > len(best):
                best = list(run)
        else:
            run = []
    return best


class NoRoadsError(InputError):
    """The OSM file has no drivable way (in the study area, when one is given)."""


class InvalidCoordinates(Exception):
    """Nodes of drivable ways whose coordinates are out of range or not numbers."""

    def __init__(self, node_ids: list[int]) -> None:
        self.node_ids = node_ids
        super().__init__(f"{len(node_ids)} node(s)")


def _extract(
    src: Path,
    dst: Path,
    way_filter: WayFilter,
    bbox: Sequence[float] | None,
    progress: bool,
) -> ExtractStats:
    """Write the ways of ``src`` that pass ``way_filter`` and have a node inside
    ``bbox`` (west, south, east, north; None = anywhere), with their nodes, to ``dst``.

    Two passes: ways (with node locations cached), then the nodes they use, copied
    whole so that node tags such as ``highway=traffic_signals`` survive."""
    processor = (
        osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    ways: list[Any] = []
    node_ids: set[int] = set()
    referenced: set[int] = set()  # every node a drivable way names, for the coordinate check
    clipped = incomplete = 0
    with tqdm(desc="Filtering OSM ways", unit=" ways", disable=not progress, leave=False) as bar:
        for way in processor:
            bar.update()
            if not way_filter.matches(dict(way.tags)):
                continue
            referenced.update(n.ref for n in way.nodes)
            refs = _longest_present_run(way)
            if len(refs) < 2:
                incomplete += 1
                continue
            if bbox is not None and not any(
                bbox[0] <= n.location.lon <= bbox[2] and bbox[1] <= n.location.lat <= bbox[3]
                for n in way.nodes if n.location.valid()
            ):
                continue
            # osmnx cannot build a way whose nodes are missing; keeping one run keeps
            # the way id (an OSM id) unique and its geometry exact.
            clipped += len(refs) < len(way.nodes)
            ways.append(way.replace(nodes=refs, tags=dict(way.tags)))
            node_ids.update(refs)
    with osmium.SimpleWriter(str(dst), overwrite=True) as writer:
        if ways:
            # A Python set beats osmium's IdFilter here: its dense id bitmap is slow
            # to build for the sparse 10-digit ids of a district extract.
            nodes = osmium.FileProcessor(str(src), osmium.osm.NODE)
            invalid: list[int] = []
            for node in tqdm(nodes, desc="Copying OSM nodes", unit=" nodes",
                             disable=not progress, leave=False):
                if node.id in node_ids:
                    writer.add_node(node)
                elif node.id in referenced and not node.location.valid():
                    invalid.append(node.id)
            if invalid:
                raise InvalidCoordinates(invalid)
        for way in ways:
            writer.add_way(way)
    return ExtractStats(len(ways), clipped, incomplete)


def read_osm_file(
    path: Path,
    way_filter: WayFilter,
    *,
    bbox: Sequence[float] | None = None,
    progress: bool = True,
    bidirectional: bool = False,
    what: str = "way drivable by a fire engine",
) -> tuple[nx.MultiDiGraph, ExtractStats]:
    """Unsimplified osmnx graph (WGS84) of the filtered ways of an OSM file.

    Parameters
    ----------
    path : Path
        ``.osm`` XML or ``.osm.pbf`` (any format pyosmium reads).
    way_filter : WayFilter
        Which ways to keep (usually :func:`emergency_filter`).
    bbox : (west, south, east, north), optional
        WGS84 degrees; ways with no node inside are skipped.
    progress : bool
        Show a tqdm bar over the ways read.
    bidirectional : bool
        Build both directions of one-way ways (walking ignores one-way rules).
    what : str
        What the filter keeps, for the error message when nothing passes.

    Returns
    -------
    graph : networkx.MultiDiGraph
        ``ox.graph_from_xml(..., simplify=False, retain_all=True)`` of the kept ways,
        edges carrying the tags in :data:`WAY_TAGS`.
    stats : ExtractStats
        Ways kept and skipped.

    Raises
    ------
    InputError
        The file is missing, cannot be parsed, or holds no drivable way in ``bbox``.
    """
    if not path.is_file():
        raise InputError(
            "OSM file not found.", source=path,
            fix="check the path, or download an extract (.osm or .osm.pbf) covering the district.",
        )
    with tempfile.TemporaryDirectory(prefix="station-coverage-") as tmp:
        xml = Path(tmp) / "roads.osm"
        try:
            stats = _extract(path, xml, way_filter, bbox, progress)
        except osmium.InvalidLocationError as exc:  # "nan", "", "999" as lat/lon
            raise InputError(
                f"a node has a coordinate that is not a valid latitude/longitude ({exc}).",
                source=path,
                fix="repair or delete that node (lat within ±90, lon within ±180), or export the "
                "extract again.",
            ) from None
        except InvalidCoordinates as exc:
            ids = ", ".join(str(i) for i in exc.node_ids[:5])
            raise InputError(
                f"{len(exc.node_ids)} node(s) of drivable roads have no valid coordinates "
                f"(node {ids}{' ...' if len(exc.node_ids) > 5 else ''}).", source=path,
                fix="repair or delete those nodes (lat within ±90, lon within ±180), or export "
                "the extract again.",
            ) from None
        except RuntimeError as exc:
            raise InputError(
                f"cannot be read as OSM data ({exc}).", source=path,
                fix="pass an uncorrupted OSM XML (.osm) or PBF (.osm.pbf) file with that extension.",
            ) from exc
        if stats.ways == 0:
            where = "" if bbox is None else f" inside the study area {tuple(round(b, 5) for b in bbox)}"
            raise NoRoadsError(
                f"has no {what}{where}.", source=path,
                fix="use an extract that covers the district's roads (highway=* ways), "
                "or check that the boundary is in the same place (WGS84, not GCJ-02).",
            )
        with osm_tag_settings():
            G = ox.graph_from_xml(xml, simplify=False, retain_all=True, bidirectional=bidirectional)
    return G, stats


def download_graph(
    polygon: Any, way_filter: WayFilter, *, source: str, network_type: str = "drive"
) -> nx.MultiDiGraph:
    """Unsimplified graph (WGS84) of the filtered ways inside ``polygon``, from Overpass.

    Calls ``ox.graph_from_polygon(polygon, custom_filter=way_filter.overpass(),
    truncate_by_edge=True, simplify=False, retain_all=True)``; ``network_type="walk"``
    makes osmnx build both directions of one-way ways. Simplification and
    connectivity are done by the caller, as for files.

    Raises
    ------
    InputError
        Overpass is unreachable or returns no roads.
    """
    with osm_tag_settings():
        try:
            return ox.graph_from_polygon(
                polygon, network_type=network_type, custom_filter=way_filter.overpass(),
                simplify=False, retain_all=True, truncate_by_edge=True,
            )
        except (OSError, ValueError) as exc:  # osmnx response errors are ValueErrors
            raise InputError(
                f"downloading roads from OpenStreetMap failed ({exc}).", source=source,
                fix="check the internet connection and the query area, or pass a local "
                "extract with osm=PATH.",
            ) from exc
