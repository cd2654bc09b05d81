"""Losses: Hamiltonian MAE with zero-point renormalization (Eq. 9) and band-energy MAE
with the eigenvalue shift correction (Eq. 10)."""

from __future__ import annotations

import math

import torch

from hts_z2.hamiltonian.bloch import PROJECTED_OUT_ENERGY, orthogonalized_eigh
from hts_z2.training.data import TargetBatch, TrainingItem


def gathered(out: dict[str, torch.Tensor], tb: TargetBatch) -> dict[str, torch.Tensor]:
    """Predicted values at the targets' positions (on-site values first, then edges).

    Returns
    -------
    dict with ``h``, ``s`` [n_vals] and ``soc`` [3, n_vals].
    """

    def soc(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return x.transpose(0, 1).reshape(3, -1)[:, idx]

    return {
        "h": torch.cat(
            [out["onsite_h"].reshape(-1)[tb.on_idx], out["edge_h"].reshape(-1)[tb.edge_idx]]
        ),
        "s": torch.cat(
            [out["onsite_s"].reshape(-1)[tb.on_idx], out["edge_s"].reshape(-1)[tb.edge_idx]]
        ),
        "soc": torch.cat([soc(out["onsite_soc"], tb.on_idx), soc(out["edge_soc"], tb.edge_idx)], 1),
    }


def on_host(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``values`` on the CPU, where the per-structure terms build and solve their small
    dense matrices (differentiable: gradients flow back to the network's device)."""
    return {k: v.cpu() for k, v in values.items()}


def zero_point_corrected(
    pred: torch.Tensor, true: torch.Tensor, s_true: torch.Tensor, graph: torch.Tensor, n: int
) -> torch.Tensor:
    """Eq. 9: ``H~' = H~ - [sum (H~ - H) / sum S] S`` per structure.

    Parameters
    ----------
    pred, true, s_true, graph : [n_vals]; ``graph`` is the structure of each value.
    """
    num = torch.zeros(n, dtype=pred.dtype, device=pred.device).index_add_(0, graph, pred - true)
    den = torch.zeros(n, dtype=pred.dtype, device=pred.device).index_add_(0, graph, s_true)
    theta = num / den
    return pred - theta[graph] * s_true


def hamiltonian_losses(out: dict[str, torch.Tensor], tb: TargetBatch) -> dict[str, torch.Tensor]:
    """MAE of H0 (zero-point corrected), S and the SOC components (eV, -, eV), and the RMS
    errors of H0 and S (``h0_rms``, ``s_rms``).

    The MAE alone is dominated by the many near-zero long-range elements and lets the few
    large nearest-neighbour ones (which set the bands) stay off by hundreds of meV; the
    RMS terms weigh those in.
    """
    p = gathered(out, tb)
    true_h = torch.cat([tb.on_h, tb.edge_h]).to(p["h"].dtype)
    true_s = torch.cat([tb.on_s, tb.edge_s]).to(p["h"].dtype)
    true_soc = torch.cat([tb.on_soc, tb.edge_soc], 1).to(p["h"].dtype)
    graph = torch.cat([tb.on_graph, tb.edge_graph])
    h = zero_point_corrected(p["h"], true_h, true_s, graph, len(tb.items))
    return {
        "h0": (h - true_h).abs().mean(),
        "s": (p["s"] - true_s).abs().mean(),
        "soc": (p["soc"] - true_soc).abs().mean(),
        "h0_rms": (h - true_h).square().mean().sqrt(),
        "s_rms": (p["s"] - true_s).square().mean().sqrt(),
    }


PAULI_T = torch.tensor(
    [[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=torch.complex128
)


def bloch_matrices(
    on: torch.Tensor, edge: torch.Tensor, item: TrainingItem, k: torch.Tensor
) -> torch.Tensor:
    """Dense ``M(k) = sum_R M(R) exp(2 pi i k.R)`` from on-site and edge values.

    Parameters
    ----------
    on, edge : [..., n_on] and [..., n_edge] real values (leading dims e.g. SOC components).
    k : [n_k, 3].

    Returns
    -------
    [..., n_k, n, n] complex.
    """
    n = item.n_orbitals
    nn2 = n * n
    R = torch.from_numpy(item.graph.edge_R).to(k.dtype)[item.edge_of_value]  # [n_edge_vals, 3]
    phase = torch.exp(2j * math.pi * (k @ R.T))  # [n_k, n_edge_vals]
    lead = on.shape[:-1]
    out = torch.zeros(*lead, k.shape[0], nn2, dtype=phase.dtype)
    flat_on = item.on_rc[0] * n + item.on_rc[1]
    flat_e = item.edge_rc[0] * n + item.edge_rc[1]
    on_c = on.to(phase.dtype).unsqueeze(-2).expand(*lead, k.shape[0], -1)
    out.index_add_(out.dim() - 1, flat_on, on_c)
    out.index_add_(out.dim() - 1, flat_e, edge.to(phase.dtype).unsqueeze(-2) * phase)
    return out.reshape(*lead, k.shape[0], n, n)


def spinful_bloch(h0k: torch.Tensor, sock: torch.Tensor) -> torch.Tensor:
    """``H0(k) (x) 1 + i sum_v B_v(k) (x) sigma_v``.

    Shapes: [n_k, n, n] and [3, n_k, n, n] -> [n_k, 2n, 2n].
    """
    n_k, n, _ = h0k.shape
    eye = torch.eye(2, dtype=h0k.dtype)
    H = torch.einsum("kmn,st->kmsnt", h0k, eye)
    H = H + 1j * torch.einsum("vkmn,vst->kmsnt", sock, PAULI_T.to(h0k.dtype))
    return H.reshape(n_k, 2 * n, 2 * n)


def generalized_eigvalsh(Hk: torch.Tensor, Sk: torch.Tensor) -> torch.Tensor | None:
    """Differentiable eigenvalues of ``H c = E S c`` (Cholesky); None if S is not PD."""
    L, info = torch.linalg.cholesky_ex(Sk)
    if bool((info != 0).any()):
        return None
    A = torch.linalg.solve_triangular(L, Hk, upper=False)
    A = torch.linalg.solve_triangular(L, A.mH, upper=False)
    return torch.linalg.eigvalsh(0.5 * (A + A.mH))


def band_window(item: TrainingItem, width: int = 8) -> slice:
    """Spinful band indices within ``width`` of the Fermi level (counted in bands), capped
    at the bands a reduced solved basis has (``2 * n_orbitals``)."""
    n_bands = min(item.band_energies.shape[1], 2 * item.n_orbitals)
    return slice(max(0, item.n_electrons - width), min(n_bands, item.n_electrons + width))


def shift_corrected_mae(pred: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Eq. 10: mean ``|pred - ref - <pred - ref>|`` over the bands a solve kept.

    A canonical solve (overlap cutoff > 0) puts the overlap directions it drops at
    ``PROJECTED_OUT_ENERGY``; where a structure keeps fewer bands than its window at some
    k-point, those entries are no bands and are left out of the shift and the mean.

    Parameters
    ----------
    pred, ref : [n_k, n_bands] band energies (eV) in the same window.

    Returns
    -------
    scalar tensor (eV); NaN when no entry is a kept band.
    """
    kept = pred < 0.5 * PROJECTED_OUT_ENERGY
    diff = (pred - ref)[kept]
    return (diff - diff.mean()).abs().mean()


def spinful_matrices(
    vals: dict[str, torch.Tensor], item: TrainingItem, k: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spinful ``H(k)`` and ``S(k) (x) 1`` [n_k, 2n, 2n] of one structure from its values.

    ``vals`` holds ``h``, ``s`` [n_on + n_edge] and ``soc`` [3, n_on + n_edge] in the
    order of :func:`gathered` restricted to this item.
    """
    n_on = item.on_h.shape[0]
    h0k = bloch_matrices(vals["h"][:n_on], vals["h"][n_on:], item, k)
    sk = bloch_matrices(vals["s"][:n_on], vals["s"][n_on:], item, k)
    sock = bloch_matrices(vals["soc"][:, :n_on], vals["soc"][:, n_on:], item, k)
    eye = torch.eye(2, dtype=sk.dtype)
    Sfull = torch.einsum("kmn,st->kmsnt", sk, eye).reshape(k.shape[0], 2 * item.n_orbitals, -1)
    return spinful_bloch(h0k, sock), Sfull


def solved_bands(Hk: torch.Tensor, Sk: torch.Tensor, overlap_cutoff: float = 0.0):
    """Band energies [n_k, n] of ``H c = E S c``, differentiable in ``H``: exact (Cholesky;
    None if S is not positive-definite) for cutoff 0, else canonical as the predictor's
    models solve it (:func:`~hts_z2.hamiltonian.bloch.orthogonalized_eigh`; S enters only
    through the detached transform)."""
    if overlap_cutoff > 0:
        return orthogonalized_eigh(Hk, Sk.detach(), vectors=False, overlap_cutoff=overlap_cutoff)[0]
    return generalized_eigvalsh(Hk, Sk)


def predicted_bands(
    vals: dict[str, torch.Tensor], item: TrainingItem, k: torch.Tensor, overlap_cutoff: float = 0.0
):
    """Spinful band energies of one structure from its predicted values ([n_k, 2n] or None);
    see :func:`spinful_matrices` and :func:`solved_bands`."""
    return solved_bands(*spinful_matrices(vals, item, k), overlap_cutoff)


def split_values(p: dict[str, torch.Tensor], tb: TargetBatch) -> list[dict[str, torch.Tensor]]:
    """Per-structure views of :func:`gathered` output (on-site then edge values)."""
    n_on_total = tb.on_h.shape[0]
    out = []
    on0 = e0 = 0
    for it in tb.items:
        n_on, n_e = it.on_h.shape[0], it.edge_h.shape[0]
        sel = {}
        for key in ("h", "s"):
            sel[key] = torch.cat(
                [p[key][on0 : on0 + n_on], p[key][n_on_total + e0 : n_on_total + e0 + n_e]]
            )
        sel["soc"] = torch.cat(
            [p["soc"][:, on0 : on0 + n_on], p["soc"][:, n_on_total + e0 : n_on_total + e0 + n_e]],
            1,
        )
        out.append(sel)
        on0 += n_on
        e0 += n_e
    return out


def with_reference_overlap(vals: dict[str, torch.Tensor], item: TrainingItem) -> dict:
    """``vals`` with the overlap replaced by the item's reference S (H, SOC unchanged)."""
    s = torch.cat([item.on_s, item.edge_s]).to(vals["h"].dtype)
    return {**vals, "s": s}


def band_loss(
    out: dict[str, torch.Tensor],
    tb: TargetBatch,
    width: int = 8,
    fallback: bool = True,
    overlap_cutoff: float = 0.0,
    reference_overlap: bool = False,
):
    """Eq. 10 shift-corrected band MAE (eV) near the Fermi level.

    Bands come from the predicted H and S; where the predicted S(k) is not
    positive-definite they come from the predicted H with the reference S when
    ``fallback`` (so the band term still trains H), else the structure is left out.
    ``reference_overlap``: always use the reference S (models whose S comes from the
    basis, which leave the network's S head untrained).

    Returns
    -------
    (mean loss or None, number of structures that needed the fallback or were left out)
    """
    p = on_host(gathered(out, tb))
    losses, skipped = [], 0
    for it, vals in zip(tb.items, split_values(p, tb), strict=True):
        k = torch.from_numpy(it.band_k).to(torch.float64)
        vals64 = {key: v.to(torch.float64) for key, v in vals.items()}
        if reference_overlap:
            vals64 = with_reference_overlap(vals64, it)
        e = predicted_bands(vals64, it, k, overlap_cutoff)
        if e is None:
            skipped += 1
            if not fallback:
                continue
            e = predicted_bands(with_reference_overlap(vals64, it), it, k, overlap_cutoff)
            if e is None:
                continue
        w = band_window(it, width)
        mae = shift_corrected_mae(e[:, w], torch.from_numpy(it.band_energies[:, w]))
        if bool(torch.isfinite(mae)):  # NaN: the solve kept no band of the window
            losses.append(mae)
    if not losses:
        return None, skipped
    return torch.stack(losses).mean(), skipped


def overlap_floor(item: TrainingItem, fraction: float = 0.5) -> torch.Tensor:
    """``fraction`` x the lowest eigenvalue of the reference S(k) at the item's k: [n_k]."""
    k = torch.from_numpy(item.band_k).to(torch.float64)
    sk = bloch_matrices(item.on_s.to(torch.float64), item.edge_s.to(torch.float64), item, k)
    return fraction * torch.linalg.eigvalsh(sk)[:, 0].clamp(min=0.0)


def overlap_penalty(out: dict[str, torch.Tensor], tb: TargetBatch) -> torch.Tensor:
    """Sum of the amounts by which eigenvalues of the predicted S(k) fall below half the
    reference's lowest eigenvalue, averaged over k-points and structures.

    The dzp basis is nearly linearly dependent, so small element-wise errors can make S(k)
    indefinite; this term keeps the predicted overlap positive-definite.
    """
    p = on_host(gathered(out, tb))
    terms = []
    for it, vals in zip(tb.items, split_values(p, tb), strict=True):
        k = torch.from_numpy(it.band_k).to(torch.float64)
        n_on = it.on_s.shape[0]
        s = vals["s"].to(torch.float64)
        lam = torch.linalg.eigvalsh(bloch_matrices(s[:n_on], s[n_on:], it, k))
        if it.s_floor is None:
            it.s_floor = overlap_floor(it)
        floor = it.s_floor.unsqueeze(-1)
        terms.append(torch.relu(floor - lam).sum(-1).mean())
    return torch.stack(terms).mean()
