"""The radius formulation of p-median as sparse arrays (García, Labbé & Marín 2011).

Per demand group g, let L₀ < L₁ < … < L_K be the distinct times from g to the
candidate sites still allowed (only those faster than ``f_g``, the nearest site
open in every solution), followed by ``f_g`` itself when it is finite. With
``z_gk = 1`` meaning "no open site is faster than L_k",

    time_g  =  L₀ + Σ_k (L_k − L_{k−1}) · z_gk,

and the radius constraints are chained level by level (one row per level, each
holding only the sites *at* that level, so the model has one non-zero per
demand–site pair plus two per level, instead of the quadratic count of the
covering form ``z_gk + Σ_{c_gj < L_k} x_j ≥ 1`` it sums to):

    z_g1 + Σ_{c_gj = L₀} x_j ≥ 1,      z_g,k+1 − z_gk + Σ_{c_gj = L_k} x_j ≥ 0,

with ``z_g,K+1 = 0`` when no site is open in every solution (some allowed site
must then serve g). Its LP relaxation equals the assignment model's; given
integer x the cheapest z is the 0/1 vector above, so z can stay continuous.
Levels a group can never reach in an optimal solution are not needed for
correctness; HiGHS fixes them itself by reduced cost once it holds the
incumbent's objective as a cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RadiusModel:
    """Columns x (``n_x``, the caller's order) then z (``n_z``); rows in CSR form."""

    n_x: int
    z_cost: np.ndarray
    constant: float
    row_lower: np.ndarray
    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    infeasible: bool
    # to compute z for a given x: the level rows and the z column each one feeds
    level_z: np.ndarray  # z column index (0-based among z) of each level's own z, −1 if first
    level_x_ptr: np.ndarray
    level_x: np.ndarray
    level_final: np.ndarray  # z column of the group's final level (at f) after this one, or −1

    @property
    def n_z(self) -> int:
        return self.z_cost.size

    @property
    def nnz(self) -> int:
        return self.index.size

    def z_values(self, x: np.ndarray) -> np.ndarray:
        """The cheapest z for 0/1 site values ``x`` (length ``n_x``): 1 until a level opens."""
        nlev = self.level_z.size
        z = np.zeros(self.n_z)
        if nlev == 0:
            return z
        opened = np.add.reduceat(x[self.level_x] > 0.5, self.level_x_ptr[:-1]).astype(np.int64)
        incl = np.cumsum(opened)
        start = np.maximum.accumulate(np.where(self.level_z < 0, np.arange(nlev), 0))
        before = incl - opened - np.where(start > 0, incl[start - 1], 0)
        own = self.level_z >= 0
        z[self.level_z[own]] = before[own] == 0
        fin = self.level_final >= 0
        z[self.level_final[fin]] = (before + opened)[fin] == 0
        return z


def build(grp: np.ndarray, col: np.ndarray, c: np.ndarray, f: np.ndarray, w: np.ndarray,
          allowed: np.ndarray) -> RadiusModel:
    """Build the chained radius model.

    Parameters
    ----------
    grp, col, c : numpy.ndarray
        Demand–site pairs sorted by (group, time): group index, site *column*
        (0 … n_x − 1 in the caller's x order) and seconds.
    f : numpy.ndarray
        Per group, seconds to the nearest site open in every solution (inf: none).
    w : numpy.ndarray
        Per group weight.
    allowed : numpy.ndarray of bool
        Per x column, whether the site may open (False: fixed closed; its pairs
        are left out).
    """
    keep = allowed[col] & (c < f[grp])
    g, j, t = grp[keep], col[keep], c[keep]
    n_x = allowed.size
    ng = f.size
    if g.size:
        new = np.r_[True, (g[1:] != g[:-1]) | (t[1:] != t[:-1])]
    else:
        new = np.zeros(0, dtype=bool)
    lvl = np.cumsum(new) - 1
    lev_g, lev_c = g[new], t[new]
    nlev = lev_g.size
    first = np.r_[True, lev_g[1:] != lev_g[:-1]] if nlev else np.zeros(0, dtype=bool)
    last = np.r_[lev_g[1:] != lev_g[:-1], True] if nlev else np.zeros(0, dtype=bool)
    has = np.zeros(ng, dtype=bool)
    has[lev_g] = True
    finite = np.isfinite(f)
    infeasible = bool((~has & ~finite).any())
    constant = float((w[lev_g[first]] * lev_c[first]).sum()) + float(
        (w[~has & finite] * f[~has & finite]).sum())
    # z columns: one per non-first level, then one per group with a finite f and levels.
    lev_z = np.full(nlev, -1, dtype=np.int64)
    nonfirst = np.flatnonzero(~first)
    lev_z[nonfirst] = np.arange(nonfirst.size)
    prev_c = np.r_[0.0, lev_c[:-1]] if nlev else np.zeros(0)
    z_cost = list(w[lev_g[nonfirst]] * (lev_c[nonfirst] - prev_c[nonfirst]))
    fin_lv = np.flatnonzero(last & finite[lev_g])
    fin_z = nonfirst.size + np.arange(fin_lv.size)
    z_cost = np.r_[np.asarray(z_cost, dtype=np.float64),
                   w[lev_g[fin_lv]] * (f[lev_g[fin_lv]] - lev_c[fin_lv])]
    final = np.full(nlev, -1, dtype=np.int64)
    final[fin_lv] = fin_z
    # z that follows each level (the next level's z, or the final one, or none)
    nxt = np.full(nlev, -1, dtype=np.int64)
    if nlev:
        nxt[:-1] = np.where(last[:-1], -1, lev_z[1:])
    nxt[fin_lv] = fin_z
    # rows = levels; entries: x at the level, +z next, −z own
    r_x, c_x, v_x = lvl, j, np.ones(j.size)
    hn = np.flatnonzero(nxt >= 0)
    ho = np.flatnonzero(lev_z >= 0)
    rows = np.r_[r_x, hn, ho]
    cols = np.r_[c_x, n_x + nxt[hn], n_x + lev_z[ho]]
    vals = np.r_[v_x, np.ones(hn.size), -np.ones(ho.size)]
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=nlev)
    starts = np.r_[0, np.cumsum(counts)[:-1]] if nlev else np.zeros(0, dtype=np.int64)
    x_ptr = np.r_[0, np.cumsum(np.bincount(lvl, minlength=nlev))]
    return RadiusModel(
        n_x=n_x, z_cost=z_cost, constant=constant,
        row_lower=np.where(first, 1.0, 0.0), starts=starts.astype(np.int64),
        index=cols[order].astype(np.int64), value=vals[order], infeasible=infeasible,
        level_z=lev_z, level_x_ptr=x_ptr, level_x=j, level_final=final)
