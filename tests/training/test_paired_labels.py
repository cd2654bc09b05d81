"""Paired comparison of validation labels: McNemar's exact test on known counts."""

import pytest

from hts_z2.schemas.training import SampleLabels
from hts_z2.training.paired_labels import agreement, compare, mcnemar_exact


def test_mcnemar_exact_known_values():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(2, 2) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)  # 2 * (1/2)^5
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)  # 2 * (1 + 10) / 2^10
    assert mcnemar_exact(6, 4) == mcnemar_exact(4, 6) == pytest.approx(2 * 386 / 1024)
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_compare_counts_only_the_shared_samples():
    ref = {"a": "trivial", "b": "metal", "c": "STI", "d": "metal", "e": "STI"}
    first = {s: SampleLabels(reference=r, predicted={"0.1": r}) for s, r in ref.items()}
    second = {s: SampleLabels(reference=r, predicted={"0.1": "metal"}) for s, r in ref.items()}
    second["x"] = SampleLabels(reference="metal", predicted={"0.1": "metal"})
    a, b = agreement(first, 0.1), agreement(second, 0.1)
    assert sum(b.values()) == 3 and b["x"]
    got = compare(a, b)
    assert (got.n, got.both, got.only_a, got.only_b, got.neither) == (5, 2, 3, 0, 0)
    assert got.p_value == pytest.approx(0.25)
    with pytest.raises(KeyError):
        agreement(first, 0.03)
    with pytest.raises(ValueError, match="share no scored sample"):
        compare(a, {"y": True})
