"""Store each atom-pair block once: the block of (j, i, -R) follows from (i, j, R).

Hermiticity and time reversal give ``H0(j,i,-R) = H0(i,j,R)^T``, ``S(j,i,-R) = S(i,j,R)^T``
and, for ``H_soc = i sum_v B_v (x) sigma_v``, ``B_v(j,i,-R) = -B_v(i,j,R)^T``; fitted SOC
strengths obey ``xi_ji(-R)[b, a] = xi_ij(R)[a, b]``. Sample files (format 2) keep only the
canonical edges; reading expands them, canonical edges first, then their reverses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EdgeBlocks:
    """Edge list with flat blocks (see ``ReferenceSample``)."""

    edge_index: np.ndarray  # [n_e, 5] (i, j, R)
    offset: np.ndarray  # [n_e + 1]
    h0: np.ndarray  # [n_val]
    s: np.ndarray  # [n_val]
    soc: np.ndarray  # [3, n_val]
    xi_value: np.ndarray  # [n_xi]
    xi_index: np.ndarray  # [n_xi, 3] (edge, local shell i, local shell j)


def canonical_mask(edge_index: np.ndarray) -> np.ndarray:
    """True for (i < j), or i == j with R >= 0 lexicographically: one of each pair."""
    i, j, R = edge_index[:, 0], edge_index[:, 1], edge_index[:, 2:]
    first = np.zeros(len(edge_index), dtype=int)
    for c in range(2, -1, -1):  # sign of the first non-zero component of R
        first = np.where(R[:, c] != 0, np.sign(R[:, c]), first)
    return (i < j) | ((i == j) & (first >= 0))


def _blocks(b: EdgeBlocks, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    parts = [np.arange(b.offset[e], b.offset[e + 1]) for e in edges]
    idx = np.concatenate(parts) if parts else np.zeros(0, dtype=int)
    sizes = np.diff(b.offset)[edges]
    offset = np.concatenate([[0], np.cumsum(sizes)]).astype(b.offset.dtype)
    return offset, b.h0[idx], b.s[idx], b.soc[:, idx]


def halve(b: EdgeBlocks) -> EdgeBlocks:
    """Only the canonical edges (and their xi), in their original order."""
    keep = np.flatnonzero(canonical_mask(b.edge_index))
    new = np.full(len(b.edge_index), -1)
    new[keep] = np.arange(len(keep))
    offset, h0, s, soc = _blocks(b, keep)
    sel = new[b.xi_index[:, 0]] >= 0
    xi_index = b.xi_index[sel].copy()
    xi_index[:, 0] = new[xi_index[:, 0]]
    return EdgeBlocks(b.edge_index[keep], offset, h0, s, soc, b.xi_value[sel], xi_index)


def expand(b: EdgeBlocks, n_orbitals_per_atom: np.ndarray) -> EdgeBlocks:
    """Canonical edges followed by the reverse of every canonical edge that has one."""
    nat = np.asarray(n_orbitals_per_atom)
    ei = b.edge_index
    self_reverse = (ei[:, 0] == ei[:, 1]) & np.all(ei[:, 2:] == 0, axis=1)
    rev = np.flatnonzero(~self_reverse)
    edge_index = np.concatenate([ei, np.column_stack([ei[rev, 1], ei[rev, 0], -ei[rev, 2:]])])
    h0, s, soc = [b.h0], [b.s], [b.soc]
    for e in rev:
        a, z = b.offset[e], b.offset[e + 1]
        shape = (nat[ei[e, 0]], nat[ei[e, 1]])
        h0.append(b.h0[a:z].reshape(shape).T.ravel())
        s.append(b.s[a:z].reshape(shape).T.ravel())
        soc.append(-b.soc[:, a:z].reshape(3, *shape).transpose(0, 2, 1).reshape(3, -1))
    sizes = np.concatenate([np.diff(b.offset), np.diff(b.offset)[rev]])
    offset = np.concatenate([[0], np.cumsum(sizes)]).astype(b.offset.dtype)
    position = np.full(len(ei), -1)
    position[rev] = len(ei) + np.arange(len(rev))
    mirrored = position[b.xi_index[:, 0]] >= 0
    xi_rev = b.xi_index[mirrored][:, [0, 2, 1]].copy()
    xi_rev[:, 0] = position[xi_rev[:, 0]]
    order = np.argsort(xi_rev[:, 0], kind="stable")
    return EdgeBlocks(
        edge_index.astype(ei.dtype),
        offset,
        np.concatenate(h0),
        np.concatenate(s),
        np.concatenate(soc, axis=1),
        np.concatenate([b.xi_value, b.xi_value[mirrored][order]]),
        np.concatenate([b.xi_index, xi_rev[order]]).astype(b.xi_index.dtype),
    )
