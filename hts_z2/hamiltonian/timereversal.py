"""Time reversal for spinful, real-orbital bases: ``Theta = (1 (x) i sigma_y) K``.

Spinful indices are orbital-major with spin inner (``2*mu + sigma``), so ``i sigma_y``
maps ``(up, down) -> (down, -up)`` inside every orbital.
"""

from __future__ import annotations

import sys

import numpy as np

from hts_z2.hamiltonian.bloch import Array, is_tensor


def theta_matrix(n_spinful: int) -> np.ndarray:
    """Unitary part ``T = 1 (x) i sigma_y`` of Theta, ``[n, n]`` real."""
    if n_spinful % 2:
        raise ValueError("a spinful basis has an even dimension")
    isy = np.array([[0.0, 1.0], [-1.0, 0.0]])
    return np.kron(np.eye(n_spinful // 2), isy)


def apply_theta(Y: Array) -> Array:
    """``Theta Y = T Y*`` for states stored as columns.

    Parameters
    ----------
    Y : [..., n, m] with ``n`` spinful (orbital-major, spin-inner).

    Returns
    -------
    [..., n, m]
    """
    Yc = Y.conj()
    out = sys.modules["torch"].empty_like(Yc) if is_tensor(Yc) else np.empty_like(Yc)
    out[..., 0::2, :] = Yc[..., 1::2, :]
    out[..., 1::2, :] = -Yc[..., 0::2, :]
    return out


def conjugate_by_theta(M: np.ndarray) -> np.ndarray:
    """``T M* T^-1`` for a stack of matrices ``[..., n, n]``."""
    T = theta_matrix(M.shape[-1])
    return T @ M.conj() @ T.T


def time_reversal_error(H: np.ndarray) -> float:
    """Largest violation of ``T H(R)* T^-1 = H(R)`` over all R (eV).

    With convention I this is equivalent to ``Theta H(k) Theta^-1 = H(-k)`` for all k.

    Parameters
    ----------
    H : [n_R, n, n] spinful real-space blocks.

    With ``T = 1 (x) i sigma_y`` the condition reads, per orbital pair,
    ``H_uu = conj(H_dd)`` and ``H_ud = -conj(H_du)``: checked on the spin blocks, without
    matrix products.
    """
    H = np.asarray(H)
    if H.shape[-1] % 2:
        raise ValueError("a spinful basis has an even dimension")
    diag = np.max(np.abs(H[..., 0::2, 0::2] - H[..., 1::2, 1::2].conj()), initial=0.0)
    off = np.max(np.abs(H[..., 0::2, 1::2] + H[..., 1::2, 0::2].conj()), initial=0.0)
    return float(np.maximum(diag, off))  # NaN propagates
