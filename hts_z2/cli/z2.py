"""``hts-z2 z2``: band gap and Z2 indices of a tight-binding Hamiltonian file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.table import Table

from hts_z2.cli.console import fail, get_console
from hts_z2.hamiltonian.gap import BandGap, band_gap, merge_gaps
from hts_z2.hamiltonian.lattice_models import EXAMPLES
from hts_z2.hamiltonian.tightbinding import TightBinding, TightBindingError
from hts_z2.reference.sample import SampleError
from hts_z2.topology import Z2Result, compute_z2
from hts_z2.topology.planes import PLANE_NAMES


def _load(path: Path | None, example: str | None, n_occ: int | None) -> tuple[TightBinding, str]:
    if (path is None) == (example is None):
        raise typer.BadParameter("give a Hamiltonian FILE or --example NAME (not both)")
    if example is not None:
        if example not in EXAMPLES:
            raise typer.BadParameter(f"unknown example {example!r}; choose from {sorted(EXAMPLES)}")
        return EXAMPLES[example](), f"example {example}"
    if path.suffix == ".h5" and path.is_file() and path.name != "hamiltonians.h5":
        from hts_z2.reference.sample import load_sample

        return load_sample(path).tight_binding(), f"reference sample {path}"
    from hts_z2.hamiltonian.formats import read_hamiltonian

    kwargs = {} if n_occ is None else {"n_occ": n_occ}
    return read_hamiltonian(path, **kwargs), str(path)


def _gap_table(gap: BandGap) -> Table:
    t = Table(title="Band gap", show_header=False)
    t.add_row("indirect gap", f"{gap.indirect:.4f} eV" + ("  (metal)" if gap.is_metal else ""))
    t.add_row("direct gap", f"{gap.direct:.4f} eV at k = {list(gap.k_direct)}")
    t.add_row(
        "VBM / CBM",
        f"{gap.vbm:.4f} eV at {list(gap.k_vbm)} / {gap.cbm:.4f} eV at {list(gap.k_cbm)}",
    )
    t.add_row("k-points", str(gap.n_k))
    return t


def _z2_table(results: list[Z2Result]) -> Table:
    t = Table(title="Z2 on the six TRIM planes")
    t.add_column("plane")
    for r in results:
        t.add_column(f"{r.method}: Z2")
        t.add_column("grid")
        t.add_column("min gap (eV)")
    for i, name in enumerate(PLANE_NAMES):
        row = [name]
        for r in results:
            p = r.plane_results[i] if i < len(r.plane_results) else None
            if p is None:
                row += ["-", "-", "-"]
            else:
                z = "?" if p.z2 is None or not p.converged else str(p.z2)
                row += [z, f"{p.grid[0]}x{p.grid[1]}", f"{p.min_gap:.4f}"]
        t.add_row(*row)
    return t


def z2(
    path: Path = typer.Argument(
        None,
        help="Wannier90 *_hr.dat file, DeepH-layout directory or reference sample (.h5)",
        show_default=False,
    ),
    example: str = typer.Option(
        None, help=f"built-in model instead of a file: {', '.join(EXAMPLES)}"
    ),
    n_occ: int = typer.Option(None, help="occupied bands (if the file does not record it)"),
    method: str = typer.Option("both", help="fhs, wilson, or both (cross-check)"),
    n_max: int = typer.Option(128, help="largest plane grid before giving up"),
    kspacing: float = typer.Option(0.15, help="k-grid spacing of the gap search (1/Å, 2π incl.)"),
    allow_overlap: bool = typer.Option(
        False, help="report the Z2 of the lowest n_occ bands of a semimetal (direct gap open)"
    ),
    bands: Path = typer.Option(None, help="write a band-structure PNG here"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Print the band gap and the Z2 indices (nu0; nu1 nu2 nu3) of a Hamiltonian."""
    try:
        tb, name = _load(path, example, n_occ)
    except (OSError, ValueError, KeyError, TightBindingError, SampleError) as err:
        fail(str(err))
    methods = {"both": ["fhs", "wilson"], "fhs": ["fhs"], "wilson": ["wilson"]}.get(method)
    if methods is None:
        raise typer.BadParameter(f"method must be fhs, wilson or both, not {method!r}")
    t0 = time.perf_counter()
    gap = band_gap(tb, kspacing=kspacing)
    timings = {"gap": time.perf_counter() - t0}
    results = []
    for m in methods:
        t0 = time.perf_counter()
        results.append(compute_z2(tb, method=m, n_max=n_max, allow_overlap=allow_overlap))
        timings[m] = time.perf_counter() - t0
        if results[-1].plane_gap is not None:
            gap = merge_gaps(gap, results[-1].plane_gap)
    agree = len({r.label for r in results}) == 1
    console = get_console()
    if as_json:
        out = {
            "source": name,
            "gap": gap.to_dict(),
            "z2": [r.to_dict() for r in results],
            "methods_agree": agree,
            "timings_s": timings,
        }
        typer.echo(json.dumps(out, indent=2, default=str))
    else:
        console.print(
            f"[bold]{name}[/bold]: {tb.n_bands} bands, n_occ = {tb.n_occ}, {len(tb.R)} R-vectors"
        )
        console.print(_gap_table(gap))
        console.print(_z2_table(results))
        for r in results:
            style = "green" if r.defined else "yellow"
            extra = f" — {r.reason}" if r.reason else ""
            console.print(
                f"[{style}]{r.method}: {r.label}[/{style}]{extra}  ({timings[r.method]:.2f} s)"
            )
        if len(results) > 1:
            console.print("methods agree" if agree else "[red]methods DISAGREE[/red]")
    if bands is not None:
        from hts_z2.cli.plots import plot_bands
        from hts_z2.hamiltonian.bands import band_structure

        plot_bands(band_structure(tb), bands, title=f"{name}: {results[0].label}")
        if not as_json:
            console.print(f"band structure written to {bands}")
    if not agree:
        raise typer.Exit(1)
