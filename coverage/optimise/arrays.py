"""A MILP built as arrays and passed to HiGHS in one call (``Highs.passModel``).

PuLP builds one Python expression per row, which dominates the set-up of the
covering models at city scale (hundreds of thousands of demand rows). The
covering models (MCLP, LSCP) therefore build their matrix as CSR arrays with
NumPy and hand it to highspy whole. :class:`ArrayModel` carries just enough of
PuLP's surface (``sense``, ``variables()``, one object with ``varValue`` per
site column) for :mod:`coverage.optimise.runner` to drive it exactly as it
drives a PuLP model: same rounds, same incumbent, same honest status. The
PuLP builders stay for CBC and as the cross-check the tests run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from coverage.optimise.problem import PlacementProblem
from coverage.optimise.sites import Columns, Cut


@dataclass(eq=False)
class ArrayVar:
    """A column of an :class:`ArrayModel`; ``varValue`` is set after a solve (PuLP's name)."""

    index: int
    varValue: float | None = None  # noqa: N815 (PuLP's attribute name)


class ArrayModel:
    """A MILP as arrays: columns with bounds and costs, rows as CSR blocks.

    Parameters
    ----------
    name : str
        Model name (for messages).
    sense : int
        ``pulp.LpMaximize`` or ``pulp.LpMinimize``.
    """

    def __init__(self, name: str, sense: int) -> None:
        self.name = name
        self.sense = sense
        self._cost: list[np.ndarray] = []
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_cols = 0
        self.n_rows = 0
        self.objective_value: float | None = None
        self.col_value: np.ndarray | None = None
        self.solverModel = None  # the highspy object after a solve (PuLP's name)
        #: Columns whose ``varValue`` a solve fills in (the site variables).
        self.tracked: list[ArrayVar] = []
        #: HiGHS options the builder asks for (see :func:`covering_highs_options`).
        self.highs_options: dict[str, object] = {}

    def set_solution(self, col_value: np.ndarray | None, objective: float | None) -> None:
        """Record a solve's column values (None: no solution) on the tracked columns."""
        self.col_value = col_value
        self.objective_value = objective
        for v in self.tracked:
            v.varValue = None if col_value is None else float(col_value[v.index])

    def add_cols(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 integer: bool) -> int:
        """Append columns; returns the index of the first one."""
        cost = np.asarray(cost, dtype=np.float64)
        first = self.n_cols
        self._cost.append(cost)
        self._lower.append(np.broadcast_to(np.asarray(lower, np.float64), cost.shape))
        self._upper.append(np.broadcast_to(np.asarray(upper, np.float64), cost.shape))
        self._integer.append(np.full(cost.size, integer))
        self.n_cols += cost.size
        return first

    def add_rows(self, lower: np.ndarray, upper: np.ndarray, starts: np.ndarray,
                 index: np.ndarray, value: np.ndarray) -> None:
        """Append rows ``lower <= A x <= upper``, A given row-wise (CSR ``starts``)."""
        lower = np.asarray(lower, dtype=np.float64)
        k = lower.size
        if k == 0:
            return
        self._rows.append((lower, np.broadcast_to(np.asarray(upper, np.float64), (k,)),
                           np.asarray(starts, dtype=np.int64), np.asarray(index, np.int32),
                           np.asarray(value, dtype=np.float64)))
        self.n_rows += k

    def add_row(self, lower: float, upper: float, index: np.ndarray, value: np.ndarray) -> None:
        """Append one row."""
        self.add_rows(np.array([lower]), np.array([upper]), np.array([0]), index, value)

    def variables(self) -> range:
        """Column indices (PuLP's ``variables()``: empty when there is nothing to decide)."""
        return range(self.n_cols)

    def to_highs_lp(self):
        """The model as a ``highspy.HighsLp`` (row-wise matrix)."""
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = np.concatenate(self._cost) if self._cost else np.zeros(0)
        lp.col_lower_ = np.concatenate(self._lower) if self._lower else np.zeros(0)
        lp.col_upper_ = np.concatenate(self._upper) if self._upper else np.zeros(0)
        integer = np.concatenate(self._integer) if self._integer else np.zeros(0, bool)
        if integer.any():
            lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger,
                                       highspy.HighsVarType.kContinuous).tolist()
        lp.sense_ = (highspy.ObjSense.kMaximize if self.sense == pulp.LpMaximize
                     else highspy.ObjSense.kMinimize)
        starts, index, value, lower, upper = [], [], [], [], []
        offset = 0
        for lo, hi, st, ix, va in self._rows:
            starts.append(st + offset)
            index.append(ix)
            value.append(va)
            lower.append(lo)
            upper.append(hi)
            offset += ix.size
        lp.row_lower_ = np.concatenate(lower) if lower else np.zeros(0)
        lp.row_upper_ = np.concatenate(upper) if upper else np.zeros(0)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = self.n_cols
        lp.a_matrix_.num_row_ = self.n_rows
        lp.a_matrix_.start_ = np.concatenate(starts + [np.array([offset])]).astype(np.int32)
        lp.a_matrix_.index_ = (np.concatenate(index) if index else np.zeros(0)).astype(np.int32)
        lp.a_matrix_.value_ = np.concatenate(value) if value else np.zeros(0)
        return lp


#: HiGHS's primal heuristics, switched off when the model starts from a strong incumbent.
_HIGHS_HEURISTICS = ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
                     "mip_heuristic_run_root_reduced_cost",
                     "mip_heuristic_run_feasibility_jump")


def covering_highs_options(strong_start: bool) -> dict[str, object]:
    """HiGHS settings for a covering model our presolve has already reduced.

    - ``presolve="off"``: :func:`coverage.optimise.presolve.cover_rows` has merged
      identical rows, settled fixed demand and dropped dominated sites, so
      HiGHS's presolve finds nothing to remove; left on, it restarts the search
      after the root (measured on the 5,000 × 200 benchmark MCLP: the restart
      redoes the root cut loop, most of the run).
    - with ``strong_start`` (an incumbent from the iterated local search), HiGHS's
      own primal heuristics are switched off: on that benchmark they spent more
      time (sub-MIPs) than the proof and found nothing better than the start.

    Settings only change how fast HiGHS proves the optimum, never the model.
    """
    out: dict[str, object] = {"presolve": "off"}
    if strong_start:
        out["mip_heuristic_effort"] = 0.0
        out.update(dict.fromkeys(_HIGHS_HEURISTICS, False))
    return out


def cover_matrix(indptr: np.ndarray, indices: np.ndarray, xcol: np.ndarray,
                 lead: np.ndarray | None = None, lead_value: float = 1.0, sign: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of the rows ``lead_value·y_g + sign·Σ_{j in row g} x_j``.

    ``indptr``/``indices`` are the covering rows over original candidate
    columns, ``xcol`` maps a candidate column to its model column and ``lead``
    (optional) gives each row's own extra column (MCLP's z_g).
    """
    n = indptr.size - 1
    if lead is None:
        return (np.asarray(indptr[:-1], np.int64), xcol[indices].astype(np.int32),
                np.full(indices.size, sign))
    starts = np.asarray(indptr[:-1], np.int64) + np.arange(n)
    index = np.empty(indices.size + n, dtype=np.int32)
    value = np.empty(indices.size + n)
    index[starts] = lead
    value[starts] = lead_value
    body = np.ones(index.size, dtype=bool)
    body[starts] = False
    index[body] = xcol[indices]
    value[body] = sign
    return starts, index, value


def site_rows(model: ArrayModel, problem: PlacementProblem, cols: Columns, xcol: np.ndarray,
              p: int | None) -> None:
    """Count, budget, type-limit and closing rows (as :func:`sites.add_site_constraints`)."""
    forced_new = [j for j in problem.force_open if cols.new[j]]
    var = np.flatnonzero(xcol >= 0)
    new_vars = var[cols.new[var]]
    if p is not None and new_vars.size > p - len(forced_new):
        model.add_row(-np.inf, p - len(forced_new), xcol[new_vars], np.ones(new_vars.size))
    if problem.budget is not None:
        left = problem.budget - float(sum(problem.costs[j] for j in forced_new))
        js = new_vars[problem.costs[new_vars] > 0]
        if js.size and problem.costs[js].sum() > left:
            model.add_row(-np.inf, left, xcol[js], problem.costs[js])
    types = np.asarray(problem.site_types)
    for t, limit in sorted(problem.type_limits.items()):
        left = limit - sum(problem.site_types[j] == t for j in forced_new)
        js = new_vars[types[new_vars] == t]
        if js.size > left:
            model.add_row(-np.inf, left, xcol[js], np.ones(js.size))
    closable = np.array([j for j in problem.closable if xcol[j] >= 0], dtype=np.int64)
    if closable.size:
        must = len(set(problem.closable) & set(problem.force_closed))
        n = closable.size
        model.add_row(n + must - problem.close_max, n + must - problem.close_min,
                      xcol[closable], np.ones(n))


def add_cut_rows(model: ArrayModel, xcol: np.ndarray, cols: Columns, cuts: list[Cut]
                 ) -> Cut | None:
    """District-rule cuts with constants folded in; returns a cut no solution can meet."""
    for cut in cuts:
        rhs = cut.rhs
        idx, val = [], []
        for j, c in cut.coef:
            if xcol[j] >= 0:
                idx.append(int(xcol[j]))
                val.append(c)
            elif cols.const_open[j]:
                rhs -= c
        if not idx:
            if rhs > 1e-9:
                return cut
            continue
        model.add_row(rhs, np.inf, np.array(idx), np.array(val, dtype=np.float64))
    return None


def site_columns(model: ArrayModel, cols: Columns, cost: np.ndarray | float = 0.0
                 ) -> tuple[np.ndarray, dict[int, ArrayVar]]:
    """One binary column per decision site; returns ``xcol`` (−1 off-model) and the x dict."""
    var = np.flatnonzero(cols.var)
    first = model.add_cols(np.broadcast_to(np.asarray(cost, np.float64), var.shape).copy()
                           if np.ndim(cost) == 0 else np.asarray(cost, np.float64)[var],
                           0.0, 1.0, integer=True)
    xcol = np.full(cols.var.size, -1, dtype=np.int64)
    xcol[var] = first + np.arange(var.size)
    x = {int(j): ArrayVar(int(xcol[j])) for j in var}
    model.tracked.extend(x.values())
    return xcol, x


def take_rows(indptr: np.ndarray, indices: np.ndarray, keep: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``indptr``/``indices`` of the rows ``keep`` (sorted), in order."""
    counts = np.diff(indptr)[keep]
    out = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    if keep.size == indptr.size - 1:
        return np.asarray(indptr, np.int64), indices
    rows = np.zeros(indptr.size - 1, dtype=bool)
    rows[keep] = True
    return out, indices[np.repeat(rows, np.diff(indptr))]
