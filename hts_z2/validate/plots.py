"""Material-level WCC plots: the reference's Wannier charge centres, and ours when a
Hamiltonian of the material is at hand (recomputed on the same six planes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hts_z2.hamiltonian.tightbinding import TightBinding
from hts_z2.topology.planes import PLANE_NAMES, PLANES
from hts_z2.topology.wilson import line_wcc, z2_from_wcc
from hts_z2.validate.compare import Entry
from hts_z2.validate.reference import PlaneWCC


def find_hamiltonian(directory: Path, material_id: str) -> Path | None:
    """``<dir>/<id>`` (DeepH directory) or ``<dir>/<id>_hr.dat``, if present."""
    for candidate in (directory / material_id, directory / f"{material_id}_hr.dat"):
        if candidate.exists():
            return candidate
    return None


def our_wcc(tb: TightBinding, n_lines: int = 21, n_loop: int = 32) -> dict[int, PlaneWCC]:
    """Our WCCs on the six planes: loops of ``n_loop`` points along the periodic axis at
    ``n_lines`` positions ``k_b = 0 .. 1/2`` (the orientation of ``hts_z2.topology``)."""
    kb = np.linspace(0.0, 0.5, n_lines)
    out = {}
    for p, (fixed, value) in enumerate(PLANES):
        x = line_wcc(tb, fixed, value, kb, n_loop)
        z2, quality = z2_from_wcc(x)
        out[p] = PlaneWCC(wcc=x, kb=kb, z2=z2, gap_ok=quality["ok"])
    return out


def plot_material(entry: Entry, path: Path, ours: dict[int, PlaneWCC] | None = None) -> Path:
    """Six panels (one per plane): reference WCCs (black) and ours (red) against k_b.

    Returns
    -------
    The PNG written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = entry.reference
    fig, axes = plt.subplots(3, 2, figsize=(6.4, 7.2), sharex=True, sharey=True)
    for p, ax in enumerate(axes.ravel()):
        theirs = ref.wcc.get(p)
        title = [PLANE_NAMES[p]]
        if theirs is not None:
            k = np.repeat(theirs.kb, theirs.wcc.shape[1])
            ax.plot(k, theirs.wcc.ravel(), "o", ms=2.5, color="black", label=ref.tool)
        if ref.planes is not None and ref.planes[p] is not None:
            title.append(f"{ref.tool} {ref.planes[p]}")
        if ours is not None and p in ours:
            mine = ours[p]
            k = np.repeat(mine.kb, mine.wcc.shape[1])
            ax.plot(k, mine.wcc.ravel(), ".", ms=2.0, color="tab:red", label="ours")
            title.append(f"ours {mine.z2}")
        ax.set_title(", ".join(title), fontsize=9)
        ax.set_xlim(0, 0.5)
        ax.set_ylim(0, 1)
    for ax in axes[-1]:
        ax.set_xlabel("$k_b$ (halved direction)")
    for ax in axes[:, 0]:
        ax.set_ylabel("WCC")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper right", fontsize=8)
    our_label = entry.ours.label if entry.ours is not None else "no stored result"
    fig.suptitle(f"{ref.key}: reference {ref.label} / ours {our_label}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
