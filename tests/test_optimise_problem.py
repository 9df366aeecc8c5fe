"""PlacementProblem validates its input once, with messages naming source, row and fix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from coverage.errors import InputError
from coverage.optimise import PlacementProblem, PlacementResult, mclp
from coverage.optimise.matrix import canonical_csr, nearest_open


def make(**kw):
    base = {"cost": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "threshold": 10.0}
    return PlacementProblem.from_cost_matrix(**{**base, **kw})


@pytest.mark.parametrize("kw,match", [
    ({"cost": np.array([[1.0, np.nan], [1.0, 2.0]])}, "NaN"),
    ({"cost": np.array([[1.0, -2.0], [1.0, 2.0]])}, "negative"),
    ({"cost": np.ones(3)}, "2-D"),
    ({"cost": np.ones((0, 3))}, "at least one"),
    ({"threshold": 0}, "threshold"),
    ({"threshold": -5}, "threshold"),
    ({"weights": [1.0]}, "expected 2 values"),
    ({"weights": [1.0, -1.0]}, "negative"),
    ({"weights": [1.0, np.inf]}, "finite"),
    ({"fixed": [3]}, "outside"),
    ({"fixed": [1, 1]}, "more than once"),
    ({"fixed": [True, False, True]}, "boolean mask"),
    ({"force_open": [0], "force_closed": [0]}, "both forced open and forced closed"),
    ({"closable": [1]}, "not an existing"),
    ({"fixed": [0], "force_closed": [0]}, "not closable"),
    ({"fixed": [0], "closable": [0], "close_min": 2}, "close_min"),
    ({"site_types": ["small", "small", "small"], "type_limits": {"smal": 1}}, "no candidate"),
    ({"type_limits": {"small": -1}}, "non-negative"),
    ({"budget": 5.0}, "costs"),
    ({"costs": [1.0, 1.0], "budget": 5.0}, "expected 3 values"),
    ({"candidate_ids": ["a", "b", "a"]}, "more than once"),
    ({"candidate_ids": ["a"]}, "1 ids for 3"),
    ({"area_km2": [1.0, 1.0]}, "both"),
])
def test_bad_input_raises_input_error(kw, match):
    with pytest.raises(InputError, match=match) as err:
        make(**kw)
    assert err.value.source  # the message names what is wrong


def test_duplicate_sparse_entries_are_refused():
    coo = sparse.coo_array(([1.0, 2.0], ([0, 0], [1, 1])), shape=(2, 2))
    with pytest.raises(InputError, match="more than once") as err:
        canonical_csr(coo)
    assert err.value.row == 0


def test_explicit_zero_is_a_cost_and_absent_is_unreachable():
    csr = sparse.csr_array((np.array([0.0, 7.0]), np.array([0, 1]), np.array([0, 1, 2])),
                           shape=(2, 2))
    canon = canonical_csr(csr)
    assert canon.nnz == 2  # the explicit zero survives
    fd, site = nearest_open(canon, np.array([True, False]))
    assert fd[0] == 0.0 and site[0] == 0
    assert np.isinf(fd[1]) and site[1] == -1


def test_dense_inf_is_unreachable_and_sparse_inf_is_dropped():
    assert canonical_csr(np.array([[np.inf, 1.0]])).nnz == 1
    assert canonical_csr(sparse.csr_array(np.array([[np.inf, 1.0]]))).nnz == 1


def test_nearest_open_breaks_ties_by_lowest_index():
    canon = canonical_csr(np.array([[5.0, 3.0, 3.0]]))
    _, site = nearest_open(canon, np.array([True, True, True]))
    assert site[0] == 1


def test_model_needs_threshold_and_valid_p():
    prob = make(threshold=None)
    with pytest.raises(InputError, match="threshold"):
        mclp(prob, 1)
    with pytest.raises(InputError, match="p="):
        mclp(make(), -1)


def test_result_as_dict_is_json_ready():
    import json

    res = mclp(make(fixed=[0]), 1)
    d = res.as_dict()
    json.dumps(d)
    assert d["status"] == "optimal" and d["open"] == list(res.open)
    assert isinstance(res, PlacementResult)


def test_canonical_csr_input_shared_only_when_handed_over_and_keeps_float32():
    """A canonical float32 CSR is shared when its arrays are read-only (no second matrix in
    memory), copied once otherwise; bad values are still refused with their row."""
    import numpy as np
    import pytest
    from scipy import sparse

    from coverage.errors import InputError
    from coverage.optimise import PlacementProblem

    data = np.array([0.0, 30.0, 50.0, 20.0], dtype=np.float32)
    cost = sparse.csr_array((data, np.array([0, 2, 1, 2], dtype=np.int32),
                             np.array([0, 2, 2, 4], dtype=np.int32)), shape=(3, 3))
    # Writeable arrays: the problem takes its own copy, so changing them later is harmless.
    prob = PlacementProblem.from_cost_matrix(cost, threshold=40.0)
    assert prob.cost.dtype == np.float32 and prob.cost.indices.dtype == np.int32
    assert not np.shares_memory(prob.cost.data, cost.data)
    cost.data[0] = 5.0
    assert prob.cost[0, 0] == 0.0  # the explicit zero is kept
    cost.data[0] = 0.0
    # Read-only arrays are handed over: shared, no second matrix in memory.
    for a in (cost.data, cost.indices, cost.indptr):
        a.flags.writeable = False
    shared = PlacementProblem.from_cost_matrix(cost, threshold=40.0)
    assert np.shares_memory(shared.cost.data, cost.data)
    with pytest.raises(ValueError):
        shared.cost.data[0] = 5.0
    bad = sparse.csr_array((np.array([1.0, -2.0]), np.array([0, 1]), np.array([0, 1, 2])),
                           shape=(2, 2))
    with pytest.raises(InputError, match="negative"):
        PlacementProblem.from_cost_matrix(bad)
    unsorted = sparse.csr_array((np.array([1.0, 2.0]), np.array([1, 0]), np.array([0, 2])),
                                shape=(1, 2))
    fixed = PlacementProblem.from_cost_matrix(unsorted).cost
    assert list(fixed.indices) == [0, 1] and list(fixed.data) == [2.0, 1.0]


def test_matrix_plan_per_model():
    from coverage.siting import matrix_plan

    assert matrix_plan("mclp", 240.0, 900.0, rules=False) == (240.0, True)
    assert matrix_plan("lscp", 240.0, 900.0, rules=True) == (901.0, True)  # districts need more
    assert matrix_plan("backup", 240.0, 900.0, rules=False) == (240.0, False)  # second covers
    assert matrix_plan("pcenter", 240.0, 900.0, rules=False) == (901.0, True)
    assert matrix_plan(None, 240.0, 900.0, rules=False) == (901.0, False)
    assert matrix_plan("pmedian", 240.0, 900.0, rules=False, cutoff_s=500.0) == (500.0, True)
