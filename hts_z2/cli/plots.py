"""Matplotlib figures written by the CLI (headless backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from hts_z2.hamiltonian.bands import BandStructure


def plot_bands(
    bands: BandStructure,
    out: Path,
    title: str = "",
    reference: BandStructure | None = None,
    window: float = 3.0,
) -> Path:
    """Write a band-structure PNG (energies relative to mid-gap), optionally over a
    reference band structure on the same path."""
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    x = bands.path.x
    if reference is not None:
        ax.plot(x, reference.energies - reference.fermi, color="0.6", lw=2.2, alpha=0.8)
        ax.plot([], [], color="0.6", lw=2.2, label="reference")
    ax.plot(x, bands.energies - bands.fermi, color="C0", lw=1.0)
    ax.plot([], [], color="C0", lw=1.0, label="model")
    for i, _ in bands.path.labels:
        ax.axvline(x[i], color="k", lw=0.4)
    ticks: dict[float, list[str]] = {}
    for i, label in bands.path.labels:
        ticks.setdefault(round(float(x[i]), 6), []).append(label)
    ax.set_xticks(list(ticks), ["|".join(dict.fromkeys(v)) for v in ticks.values()])
    ax.axhline(0.0, color="k", ls="--", lw=0.5)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(-window, window)
    ax.set_ylabel("E - E_mid-gap (eV)")
    ax.set_title(title)
    if reference is not None:
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out)
    plt.close(fig)
    return out
