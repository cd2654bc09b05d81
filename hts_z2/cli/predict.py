"""``hts-z2 predict``: gap and Z2 label of a structure from the ML Hamiltonian."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hts_z2.cli.console import fail, get_console
from hts_z2.hamiltonian.bloch import OverlapNotPositiveDefiniteError

if TYPE_CHECKING:
    from hts_z2.schemas.result import ResultDoc

console = get_console()


def _structure(item: str):
    """(id, pymatgen Structure, source) from a file or an embedded id."""
    from pymatgen.core import Structure

    from hts_z2.structures.embedded import get_embedded

    if Path(item).is_file():
        from hts_z2.structures.sources.local import primitive

        cell, _, note = primitive(Structure.from_file(item))
        if note:  # a conventional or supercell: the primitive cell is predicted
            get_console(stderr=True).print(f"{item}: {note}")
        return Path(item).stem, cell, "files"
    try:
        entry = get_embedded(item)
    except KeyError:
        raise typer.BadParameter(
            f"{item!r} is neither a structure file nor an embedded id"
        ) from None
    return entry.id, entry.structure, "demo"


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
    from hts_z2.flows.screening import done_doc
    from hts_z2.model import load_model
    from hts_z2.schemas.campaign import ScreeningSettings
    from hts_z2.structures.sources import StructureRecord

    sid, st, source = _structure(structure)
    try:
        m = load_model(model)
    except (FileNotFoundError, ValueError) as err:
        fail(f"{err}")
    t0 = time.perf_counter()
    try:
        tb = m.predict([st], device=device)[0]
    except OverlapNotPositiveDefiniteError as err:
        console.print(f"[yellow]{sid}: undefined[/yellow] — predicted overlap: {err}")
        raise typer.Exit(1) from None
    except ValueError as err:
        fail(f"{err}")
    timings = {"inference": time.perf_counter() - t0}
    domain_ref = getattr(m, "domain", None)
    atoms = m.domain_atoms([st], device=device)[0] if domain_ref is not None else None
    record = StructureRecord(material_id=sid, source=source, structure=st)
    try:
        doc = done_doc(record, m, tb, ScreeningSettings(kspacing=0.25, device=device), atoms,
                       timings=timings)
    except OverlapNotPositiveDefiniteError as err:
        console.print(f"[yellow]{sid}: undefined[/yellow] — predicted overlap: {err}")
        raise typer.Exit(1) from None
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
        distance = doc.domain.distance if doc.domain else None
        where = "" if distance is None else f", domain {distance:.2f}"
        plot_bands(pred, bands, title=f"{sid} ({m.name}): {doc.label}{where}", reference=ref)
    if as_json:
        typer.echo(json.dumps(doc.model_dump(mode="json", exclude={"structure"}), indent=2))
        return
    render(doc)
    for path, what in ((hr, "Wannier90 hr"), (deeph, "DeepH"), (bands, "band structure")):
        if path is not None:
            console.print(f"{what} written to {path}")


def render(doc: ResultDoc) -> None:
    """One predicted result in words: gap, Z2, occupied-band Z2, domain, cautions."""
    gap, z2 = doc.gap, doc.z2
    console.print(f"[bold]{doc.material_id}[/bold] with model {doc.model.name} "
                  f"({doc.model.sha256[:12]})")
    console.print(
        f"indirect gap {gap.indirect:.4f} eV, direct gap {gap.direct:.4f} eV"
        + ("  (metal)" if gap.is_metal else "")
    )
    style = "green" if z2 is not None and z2.nu0 is not None else "yellow"
    reason = f" — {z2.reason}" if z2 is not None and z2.reason else ""
    console.print(f"Z2: [{style}]{doc.label}[/{style}]{reason}")
    if doc.z2_manifold is not None:
        console.print(f"Z2 of the occupied bands (the lowest n_occ): {doc.z2_manifold.label}")
    domain = doc.domain
    if domain is not None and domain.distance is not None and domain.threshold is not None:
        inside = "inside" if domain.in_domain else "outside"
        per_element = ", ".join(
            f"{el} {d:.2f}" for el, d in sorted(domain.by_element.items(),
                                                key=lambda x: -(x[1] or 0))
        )
        console.print(
            f"domain distance {domain.distance:.2f} (threshold {domain.threshold:.2f}: "
            f"{inside} the training domain; by element {per_element})"
        )
    for caution in doc.cautions:
        console.print(f"[yellow]caution:[/yellow] {caution.text}")
