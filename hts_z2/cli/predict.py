"""``hts-z2 predict``: gap and Z2 label of a structure from the ML Hamiltonian."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console

from hts_z2.hamiltonian.bloch import OverlapNotPositiveDefiniteError
from hts_z2.model.domain import domain_fields
from hts_z2.topology.assess import assess

console = Console()


def _structure(item: str):
    """(id, pymatgen Structure) from a file or an embedded id."""
    from pymatgen.core import Structure

    from hts_z2.structures.embedded import get_embedded

    if Path(item).is_file():
        from hts_z2.structures.sources.local import primitive

        cell, _, note = primitive(Structure.from_file(item))
        if note:  # a conventional or supercell: the primitive cell is predicted
            Console(stderr=True).print(f"{item}: {note}")
        return Path(item).stem, cell
    try:
        entry = get_embedded(item)
    except KeyError:
        raise typer.BadParameter(
            f"{item!r} is neither a structure file nor an embedded id"
        ) from None
    return entry.id, entry.structure


def _reference_bands(sample: Path | None, structure_id: str):
    """Reference model for the band plot: the given sample or the embedded dataset's."""
    from hts_z2.reference.dataset import embedded_dataset_path, sample_path
    from hts_z2.reference.sample import load_sample

    path = sample or sample_path(embedded_dataset_path(), structure_id)
    if not Path(path).is_file():
        return None
    return load_sample(path).tight_binding()


def predict(
    structure: str = typer.Argument(..., help="structure file (CIF, POSCAR, ...) or embedded id"),
    model: str = typer.Option(None, help="model name or directory (default: shipped model)"),
    hr: Path = typer.Option(
        None, help="write the predicted H (Loewdin-orthogonalized) as a Wannier90 _hr.dat file"
    ),
    deeph: Path = typer.Option(None, help="write the predicted H (and S) as a DeepH directory"),
    bands: Path = typer.Option(None, help="write a band-structure PNG (vs reference if known)"),
    reference: Path = typer.Option(None, help="reference sample (.h5) for the band plot"),
    device: str = typer.Option("cpu", help="torch device: cpu, cuda[:N], auto"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Predict the spin–orbit Hamiltonian of STRUCTURE, then its band gap and Z2 label."""
    from hts_z2.model import load_model

    sid, st = _structure(structure)
    try:
        m = load_model(model)
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    t0 = time.perf_counter()
    try:
        tb = m.predict([st], device=device)[0]
    except OverlapNotPositiveDefiniteError as err:
        console.print(f"[yellow]{sid}: undefined[/yellow] — predicted overlap: {err}")
        raise typer.Exit(1) from None
    except ValueError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    timings = {"predict": time.perf_counter() - t0}
    try:
        a = assess(tb, 0.25, m.band_error, n_max=64)
    except OverlapNotPositiveDefiniteError as err:
        console.print(f"[yellow]{sid}: undefined[/yellow] — predicted overlap: {err}")
        raise typer.Exit(1) from None
    timings.update(a.seconds)
    gap, z2, manifold, label, caution = a.gap, a.z2, a.manifold, a.label, a.caution
    domain_ref = getattr(m, "domain", None)
    atoms = m.domain_atoms([st], device=device)[0] if domain_ref is not None else None
    domain = domain_fields(atoms, domain_ref, caution)
    caution = domain.get("caution", caution)
    distance, by_element = domain["domain_distance"], domain.get("domain_by_element") or {}
    if hr is not None:
        from hts_z2.hamiltonian.formats import write_hamiltonian
        from hts_z2.hamiltonian.orthogonalize import lowdin_orthogonalized

        write_hamiltonian(lowdin_orthogonalized(tb), hr, "wannier90")
    if deeph is not None:
        from hts_z2.hamiltonian.formats import write_hamiltonian

        write_hamiltonian(tb, deeph, "deeph")
    if bands is not None:
        from hts_z2.cli.plots import plot_bands
        from hts_z2.hamiltonian.bands import band_structure

        pred = band_structure(tb)
        ref_tb = _reference_bands(reference, sid)
        ref = band_structure(ref_tb, pred.path) if ref_tb is not None else None
        where = "" if distance is None else f", domain {distance:.2f}"
        plot_bands(pred, bands, title=f"{sid} ({m.name}): {label}{where}", reference=ref)
    out = {
        "id": sid,
        "model": {"name": m.name, "sha256": m.sha256},
        "gap": gap.to_dict(),
        "z2": z2.to_dict() if z2 is not None else {"label": "metal"},
        "z2_manifold": manifold.to_dict() if manifold is not None else None,
        "caution": caution,
        "domain_distance": distance,
        "domain_threshold": None if domain_ref is None else domain_ref.threshold,
        "domain_by_element": by_element,
        "timings_s": timings,
    }
    if as_json:
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    console.print(f"[bold]{sid}[/bold] with model {m.name} ({m.sha256[:12]})")
    console.print(
        f"indirect gap {gap.indirect:.4f} eV, direct gap {gap.direct:.4f} eV"
        + ("  (metal)" if gap.is_metal else "")
    )
    style = "green" if z2 is not None and z2.defined else "yellow"
    reason = f" — {z2.reason}" if z2 is not None and z2.reason else ""
    console.print(f"Z2: [{style}]{label}[/{style}]{reason}")
    if manifold is not None:
        console.print(f"Z2 of the occupied bands (the lowest n_occ): {manifold.label}")
    if distance is not None and domain_ref is not None:
        inside = "inside" if distance <= domain_ref.threshold else "outside"
        per_element = ", ".join(
            f"{el} {d:.2f}" for el, d in sorted(by_element.items(), key=lambda x: -(x[1] or 0))
        )
        console.print(
            f"domain distance {distance:.2f} (threshold {domain_ref.threshold:.2f}: "
            f"{inside} the training domain; by element {per_element})"
        )
    if caution:
        console.print(f"[yellow]caution:[/yellow] {caution}")
    for path, what in ((hr, "Wannier90 hr"), (deeph, "DeepH"), (bands, "band structure")):
        if path is not None:
            console.print(f"{what} written to {path}")
