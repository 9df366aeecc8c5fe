"""The one input object shared by every placement model.

A :class:`PlacementProblem` is a demand × candidate travel-time matrix with the
options every model honours: existing (fixed) stations, forced and forbidden
sites, per-site costs with a budget, station types with count limits, closing
existing stations as a what-if, and the small-station district-area rule. It
has no geography: the geographic layer builds the matrix and passes ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np
from scipy import sparse

from coverage.errors import InputError
from coverage.optimise.matrix import canonical_csr


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _indices(values: object, m: int, name: str) -> tuple[int, ...]:
    """Validate a list of candidate column indices: integers, in range, unique."""
    if values is None:
        return ()
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
    if arr.size == 0:
        return ()
    if arr.dtype == bool:
        raise InputError(
            f"{name} must list candidate column indices, not a boolean mask",
            source=name, fix="use numpy.flatnonzero(mask)",
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"{name} must hold integer candidate column indices, got {arr.dtype}",
            source=name, fix="map candidate ids to column positions first",
        )
    arr = arr.astype(np.int64).ravel()
    bad = np.flatnonzero((arr < 0) | (arr >= m))
    if bad.size:
        raise InputError(
            f"index {arr[bad[0]]} is outside 0..{m - 1} (the matrix has {m} candidate columns)",
            source=name, row=int(bad[0]), fix="indices refer to cost-matrix columns",
        )
    uniq, counts = np.unique(arr, return_counts=True)
    if (counts > 1).any():
        raise InputError(
            f"index {uniq[counts > 1][0]} is listed more than once",
            source=name, fix="list each candidate once",
        )
    return tuple(int(v) for v in uniq)


def _vector(values: object, size: int, name: str, *, allow_inf: bool = False) -> np.ndarray:
    """Validate a per-row or per-column vector: right length, finite (or +inf), non-negative."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (size,):
        raise InputError(
            f"expected {size} values, got shape {arr.shape}",
            source=name, fix="give one value per matrix row/column, in matrix order",
        )
    bad = np.flatnonzero(np.isnan(arr) | (np.isinf(arr) & ~(allow_inf & (arr > 0))))
    if bad.size:
        raise InputError(f"value {arr[bad[0]]} is not a finite number", source=name,
                         row=int(bad[0]), fix="replace missing values")
    bad = np.flatnonzero(arr < 0)
    if bad.size:
        raise InputError(f"value {arr[bad[0]]} is negative", source=name, row=int(bad[0]),
                         fix="values must be >= 0")
    return _readonly(arr.copy())


@dataclass(frozen=True, eq=False)
class PlacementProblem:
    """A station-placement instance on a demand × candidate travel-time matrix.

    Columns are *all* sites a model may use: existing stations (listed in
    ``fixed``) and new candidate sites. Every model decides which non-fixed
    columns to open ("new sites"); fixed columns are open unless listed in
    ``closable`` and closed by the what-if.

    Parameters
    ----------
    cost : numpy.ndarray or scipy.sparse matrix/array, shape (n_demand, n_candidates)
        Travel time in **seconds** from each candidate site to each demand point.
        Dense: every finite value is a real cost, ``+inf`` means unreachable.
        Sparse: every *stored* entry is a real cost — an explicit ``0.0`` is a
        zero travel time, not a missing value — and an **absent entry means
        "not reachable within the matrix cutoff"**. Beware that SciPy drops
        explicit zeros in ``eliminate_zeros()`` and when converting a dense array
        with zeros to sparse: a site standing on its demand point would then
        look unreachable. Stored ``+inf`` is treated as absent. Stored after
        validation as canonical ``scipy.sparse.csr_array``.
    weights : array_like, shape (n_demand,), optional
        Demand weight (e.g. population, buildings), >= 0. Default all ones.
    threshold : float, optional
        Coverage threshold in seconds: a demand point is covered by a site when
        ``cost <= threshold``. Needed by LSCP, MCLP and backup coverage.
    fixed : sequence of int, optional
        Columns that are existing stations, open in every solution unless
        ``closable``.
    candidate_ids : sequence, optional
        An id per column, echoed in results (default: the column index).
    site_types : sequence of str, optional
        A type code per column, e.g. ``"small"`` or ``"level2"`` (see
        :data:`coverage.presets.STATION_TYPES`). Default: all ``"small"``.
    type_limits : mapping of str to int, optional
        Largest number of *new* sites of each type.
    costs : array_like, shape (n_candidates,), optional
        Cost of opening each new site (any currency unit), >= 0.
    budget : float, optional
        Largest total cost of the new sites (needs ``costs``).
    force_open : sequence of int, optional
        Columns that must be open (a new site, or a closable station that must stay).
    force_closed : sequence of int, optional
        Columns that must stay closed (new candidates, or closable stations to close).
    closable : sequence of int, optional
        Fixed stations that the what-if may close; a subset of ``fixed``.
    close_min, close_max : int, optional
        How many of ``closable`` must / may close (default 0 and all of them).
        Set both to ``k`` for "close exactly k".
    area_km2 : array_like, shape (n_demand,), optional
        Land area (km²) each demand row stands for; with ``area_cap_km2`` it
        switches on the district-area rule.
    area_cap_km2 : array_like, shape (n_candidates,), optional
        Largest district area (km²) for each site if open; ``inf`` means no cap.
        A site's district is the demand nearest to it among all open sites.
        For 建标152 small stations use ``STATION_TYPES["small"].area_cap_km2``.

    Raises
    ------
    InputError
        On inconsistent shapes, NaN or negative values, out-of-range or duplicate
        indices, non-positive threshold, or contradictory options.
    """

    cost: sparse.csr_array
    weights: np.ndarray | None = None
    threshold: float | None = None
    fixed: Sequence[int] = ()
    candidate_ids: Sequence[object] | None = None
    site_types: Sequence[str] | None = None
    type_limits: Mapping[str, int] = field(default_factory=dict)
    costs: np.ndarray | None = None
    budget: float | None = None
    force_open: Sequence[int] = ()
    force_closed: Sequence[int] = ()
    closable: Sequence[int] = ()
    close_min: int = 0
    close_max: int | None = None
    area_km2: np.ndarray | None = None
    area_cap_km2: np.ndarray | None = None

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        cost = canonical_csr(self.cost)
        put("cost", cost)
        n, m = cost.shape
        put("weights", _readonly(np.ones(n)) if self.weights is None else
            _vector(self.weights, n, "weights"))
        if self.threshold is not None:
            t = float(self.threshold)
            if not np.isfinite(t) or t <= 0:
                raise InputError(f"threshold {self.threshold!r} s must be a positive number",
                                 source="threshold", fix="give the travel-time limit in seconds")
            put("threshold", t)
        fixed = _indices(self.fixed, m, "fixed")
        put("fixed", fixed)
        ids = tuple(range(m)) if self.candidate_ids is None else tuple(self.candidate_ids)
        if len(ids) != m:
            raise InputError(f"{len(ids)} ids for {m} candidate columns", source="candidate_ids",
                             fix="give one id per cost-matrix column")
        if len(set(ids)) != m:
            seen: set[object] = set()
            dup = next(i for i, v in enumerate(ids) if v in seen or seen.add(v))
            raise InputError(f"id {ids[dup]!r} appears more than once", source="candidate_ids",
                             row=dup, fix="candidate ids must be unique")
        put("candidate_ids", ids)
        types = ("small",) * m if self.site_types is None else tuple(str(t) for t in self.site_types)
        if len(types) != m:
            raise InputError(f"{len(types)} types for {m} candidate columns", source="site_types",
                             fix="give one type code per cost-matrix column")
        put("site_types", types)
        limits = {}
        for t, k in dict(self.type_limits).items():
            if t not in types:
                raise InputError(f"type_limits names type {t!r}, which no candidate has",
                                 source="type_limits", fix=f"use one of {sorted(set(types))}")
            if not isinstance(k, (int, np.integer)) or k < 0:
                raise InputError(f"limit {k!r} for type {t!r} must be a non-negative integer",
                                 source="type_limits")
            limits[t] = int(k)
        put("type_limits", MappingProxyType(limits))
        if self.costs is not None:
            put("costs", _vector(self.costs, m, "costs"))
        if self.budget is not None:
            if self.costs is None:
                raise InputError("a budget needs per-site costs", source="budget",
                                 fix="pass costs=, one per candidate column")
            b = float(self.budget)
            if not np.isfinite(b) or b < 0:
                raise InputError(f"budget {self.budget!r} must be a finite number >= 0",
                                 source="budget")
            put("budget", b)
        fo = _indices(self.force_open, m, "force_open")
        fc = _indices(self.force_closed, m, "force_closed")
        both = sorted(set(fo) & set(fc))
        if both:
            raise InputError(f"candidate {both[0]} is both forced open and forced closed",
                             source="force_open/force_closed", row=both[0],
                             fix="list it in only one of them")
        closable = _indices(self.closable, m, "closable")
        not_fixed = sorted(set(closable) - set(fixed))
        if not_fixed:
            raise InputError(f"closable column {not_fixed[0]} is not an existing (fixed) station",
                             source="closable", row=not_fixed[0],
                             fix="only fixed stations can be closed; new sites are simply not chosen")
        stuck = sorted((set(fc) & set(fixed)) - set(closable))
        if stuck:
            raise InputError(f"existing station {stuck[0]} is forced closed but not closable",
                             source="force_closed", row=stuck[0],
                             fix="add it to closable to study closing it")
        put("force_open", fo)
        put("force_closed", fc)
        put("closable", closable)
        cmax = len(closable) if self.close_max is None else int(self.close_max)
        cmin = int(self.close_min)
        if not 0 <= cmin <= cmax <= len(closable):
            raise InputError(
                f"need 0 <= close_min ({cmin}) <= close_max ({cmax}) <= len(closable) "
                f"({len(closable)})", source="close_min/close_max",
                fix="list the stations that may close in closable")
        put("close_min", cmin)
        put("close_max", cmax)
        if (self.area_km2 is None) != (self.area_cap_km2 is None):
            raise InputError("the area rule needs both area_km2 (per demand row) and "
                             "area_cap_km2 (per candidate column)", source="area_km2/area_cap_km2")
        if self.area_km2 is not None:
            put("area_km2", _vector(self.area_km2, n, "area_km2"))
            put("area_cap_km2", _vector(self.area_cap_km2, m, "area_cap_km2", allow_inf=True))

    @classmethod
    def from_cost_matrix(
        cls,
        cost: object,
        weights: object | None = None,
        threshold: float | None = None,
        fixed: Sequence[int] | None = None,
        **options: object,
    ) -> PlacementProblem:
        """Build a problem from a plain cost matrix, like spopt's ``from_cost_matrix``.

        Parameters
        ----------
        cost : numpy.ndarray or scipy.sparse matrix/array
            Demand × candidate travel times, seconds (see the class docstring
            for how absent sparse entries and explicit zeros are read).
        weights : array_like, optional
            Demand weights (default all ones).
        threshold : float, optional
            Coverage threshold, seconds.
        fixed : sequence of int, optional
            Columns that are existing stations.
        **options
            Any other :class:`PlacementProblem` field.
        """
        return cls(cost=cost, weights=weights, threshold=threshold,
                   fixed=() if fixed is None else fixed, **options)

    @property
    def n_demand(self) -> int:
        """Number of demand rows."""
        return self.cost.shape[0]

    @property
    def n_candidates(self) -> int:
        """Number of candidate columns (existing stations included)."""
        return self.cost.shape[1]

    @cached_property
    def is_fixed(self) -> np.ndarray:
        """Boolean mask of existing-station columns."""
        mask = np.zeros(self.n_candidates, dtype=bool)
        mask[list(self.fixed)] = True
        return _readonly(mask)

    @property
    def has_area_rule(self) -> bool:
        """True when the district-area rule is switched on."""
        return self.area_km2 is not None and bool(np.isfinite(self.area_cap_km2).any())

    def require_threshold(self, model: str) -> float:
        """Return the threshold or raise a clear error for models that need one."""
        if self.threshold is None:
            raise InputError(f"the {model} model needs a coverage threshold", source="threshold",
                             fix="pass threshold= in seconds, e.g. 240")
        return self.threshold
