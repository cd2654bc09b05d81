"""Paired comparison of two models' validation labels (model selection).

Two models scored on the same validation samples differ only on the samples where one
agrees with the reference label and the other does not. McNemar's exact test asks
whether those discordant samples split more unevenly than a fair coin would: with 34
samples, 28 against 26 agreeing labels can be one model right on 2 samples the other
gets wrong and nothing else, or 6 against 4, and neither is evidence of a better model.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

from hts_z2.schemas.training import SampleLabels


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value for ``only_a`` samples right by A alone and
    ``only_b`` right by B alone (binomial(n, 1/2) tail, doubled, capped at 1)."""
    if only_a < 0 or only_b < 0:
        raise ValueError("discordant counts must be >= 0")
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2**n
    return min(1.0, 2.0 * tail)


@dataclass(frozen=True)
class PairedLabels:
    """How two models' labels agree with the reference on the samples both scored."""

    n: int
    both: int
    only_a: int
    only_b: int
    neither: int
    p_value: float
    """Exact McNemar p-value of ``only_a`` against ``only_b``."""


def agreement(labels: dict[str, SampleLabels], cutoff: float) -> dict[str, bool]:
    """Per sample whether the label predicted at ``cutoff`` equals the reference label.

    Parameters
    ----------
    labels : a calibration record's ``labels`` (sample id -> ``reference`` and
        ``predicted`` labels keyed by ``f"{cutoff:g}"``; see
        :class:`~hts_z2.schemas.training.Calibration`).

    Raises
    ------
    KeyError
        A sample was not labelled at ``cutoff``.
    """
    key = f"{cutoff:g}"
    return {sid: v.predicted[key] == v.reference for sid, v in labels.items()}


def compare(a: dict[str, bool], b: dict[str, bool]) -> PairedLabels:
    """Paired label agreement of models A and B (per-sample booleans of
    :func:`agreement`) on the samples both were scored on.

    Raises
    ------
    ValueError
        The two have no sample in common.
    """
    common = sorted(set(a) & set(b))
    if not common:
        raise ValueError("the two models share no scored sample")
    both = sum(a[s] and b[s] for s in common)
    only_a = sum(a[s] and not b[s] for s in common)
    only_b = sum(b[s] and not a[s] for s in common)
    neither = len(common) - both - only_a - only_b
    return PairedLabels(len(common), both, only_a, only_b, neither, mcnemar_exact(only_a, only_b))
