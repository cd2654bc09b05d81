"""``hts-z2 reference`` and ``hts-z2 dataset``: DFT reference samples and datasets."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hts_z2.cli.console import fail, get_console, progress_columns

dataset_app = typer.Typer(help="Inspect and extend training datasets.", no_args_is_help=True)


SUBSTITUTIONS = (
    {"Se": "Te"},
    {"Te": "Se"},
    {"S": "Se"},
    {"Bi": "Sb"},
    {"Pb": "Sn"},
    {"Tl": "In"},
    {"I": "Br"},
    {"Br": "Cl"},
    {"Hg": "Cd"},
    {"W": "Mo"},
    {"Pt": "Pd"},
    {"Au": "Ag"},
    {"Cs": "Rb"},
    {"Hf": "Zr"},
    {"Ta": "Nb"},
)
"""Element substitutions used to diversify training structures."""
MAX_VARIANT_ATOMS = 5
"""Larger cells give costly, large samples; they enter a campaign only as themselves."""
VARIANT_KINDS = ("rattle", "sub", "strain")
"""Kinds of variant a campaign may compute (all by default)."""


@dataclass(frozen=True)
class _Entry:
    id: str
    structure: object


def _variant_rank(variant_id: str) -> int:
    """Order variants so that an interrupted campaign has the most diverse set first."""
    tag = variant_id.rsplit("/", 1)[-1]
    return 0 if tag.startswith("rattle") else 1 if tag.startswith("sub") else 2


def load_structures(
    items: list[str],
    variants: int,
    seed: int,
    kinds: tuple[str, ...] = VARIANT_KINDS,
    max_variant_atoms: int = MAX_VARIANT_ATOMS,
) -> list[tuple[str, object]]:
    """(id, pymatgen Structure) pairs from files, embedded ids, or the word ``embedded``.

    With ``variants > 0`` each structure (except embedded metals and cells of more than
    ``max_variant_atoms`` atoms: large, costly samples) also yields two strained copies
    (±2 %), ``variants`` rattled copies and the applicable :data:`SUBSTITUTIONS`
    (deterministic for a seed), ordered rattles, then substitutions, then strains.
    ``kinds`` (a subset of :data:`VARIANT_KINDS`) keeps only some of these.

    Raises
    ------
    ValueError
        An unknown kind of variant.
    """
    unknown = sorted(set(kinds) - set(VARIANT_KINDS))
    if unknown:
        raise ValueError(f"unknown variant kinds {unknown}; choose from {list(VARIANT_KINDS)}")
    from pymatgen.core import Structure

    from hts_z2.structures.embedded import get_embedded, load_embedded
    from hts_z2.structures.variants import STRAINS, variant_set

    entries: list[tuple[str, object]] = []
    metals: set[str] = set()
    for item in items:
        if item == "embedded":
            embedded = load_embedded()
            entries += [(e.id, e.structure) for e in embedded]
            metals |= {e.id for e in embedded if e.category == "metal"}
        elif Path(item).exists():
            entries.append((Path(item).stem, Structure.from_file(item)))
        else:
            e = get_embedded(item)
            entries.append((e.id, e.structure))
    if variants > 0:
        parents = [
            _Entry(i, st)
            for i, st in entries
            if i not in metals and len(st) <= max_variant_atoms  # type: ignore[arg-type]
        ]
        extra = variant_set(
            parents,
            variants if "rattle" in kinds else 0,
            seed,
            strains=STRAINS if "strain" in kinds else (),
            substitutions=SUBSTITUTIONS if "sub" in kinds else (),
        )
        entries += sorted(extra, key=lambda item: _variant_rank(item[0]))
    return entries


def reference(
    structures: list[str] = typer.Argument(
        ..., help="structure files (CIF, POSCAR, ...), embedded ids, or 'embedded' for all"
    ),
    out: Path = typer.Option(..., "--out", help="dataset directory (created; resumable)"),
    basis: str = typer.Option("dzp", help="GPAW LCAO basis, e.g. dzp or 'szp(dzp)'"),
    kpt_density: float = typer.Option(3.5, help="SCF k-points per 1/Å"),
    max_atoms: int = typer.Option(12, help="refuse larger primitive cells"),
    variants: int = typer.Option(
        0, help="also compute ±2 % strains, this many rattles and element substitutions"
    ),
    variant_kinds: str = typer.Option(
        ",".join(VARIANT_KINDS), help="comma-separated kinds of variant to compute"
    ),
    variant_max_atoms: int = typer.Option(
        MAX_VARIANT_ATOMS, help="no variants of cells with more atoms than this"
    ),
    seed: int = typer.Option(0, help="seed of the variants"),
    retry_failed: bool = typer.Option(False, help="retry structures that failed before"),
    max_kpoints: int = typer.Option(None, help="cap on the SCF k-points (dense metal grids)"),
    width: float = typer.Option(0.01, help="Fermi–Dirac smearing of the SCF (eV)"),
    symmetry: bool = typer.Option(
        False, help="point-group symmetry in the SCF (faster; off = the reference setting)"
    ),
    verify: bool = typer.Option(
        False, help="compare with GPAW's own (SOC) eigenvalues and record the deviations"
    ),
) -> None:
    """Compute GPAW LCAO + SOC reference samples (one file per structure)."""
    from hts_z2.reference.dataset import generate
    from hts_z2.reference.gpaw_scf import GpawSettings
    from hts_z2.reference.pipeline import ReferenceSettings, gpaw_reference

    try:
        kinds = tuple(k.strip() for k in variant_kinds.split(",") if k.strip())
        entries = load_structures(structures, variants, seed, kinds, variant_max_atoms)
    except (KeyError, ValueError, OSError) as err:
        fail(str(err))
    settings = ReferenceSettings(
        gpaw=GpawSettings(
            basis=basis,
            kpt_density=kpt_density,
            point_group=symmetry,
            max_kpoints=max_kpoints,
            width=width,
        ),
        max_atoms=max_atoms,
        verify=verify,
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    console = get_console()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("reference samples", total=len(entries))

        def on_progress(sample_id: str, status: str) -> None:
            progress.advance(task)
            progress.console.print(f"{status:>8}  {sample_id}")

        report = generate(
            entries,
            out,
            lambda s, i: gpaw_reference(s, i, settings),
            retry_failed=retry_failed,
            on_progress=on_progress,
        )
    console.print(
        f"done {len(report.done)}, already there {len(report.existing)}, "
        f"failed {len(report.failed)}  -> {out}"
    )
    for sample_id, reason in report.failed.items():
        console.print(f"[yellow]failed[/yellow] {sample_id}: {reason}")
    if verify:
        _print_verification(out, report.done)


def _print_verification(root: Path, sample_ids: list[str]) -> None:
    """Table of the model-vs-GPAW deviations recorded by ``--verify``."""
    from hts_z2.reference.dataset import sample_path
    from hts_z2.reference.sample import load_sample

    t = Table(title="extracted model vs GPAW eigenvalues (max |dE|, meV)")
    for col in (
        "sample",
        "spinless all",
        "spinless window",
        "SOC all",
        "SOC window",
        "TR error (eV)",
    ):
        t.add_column(col)
    for sample_id in sample_ids:
        v = load_sample(sample_path(root, sample_id)).meta.get("verification", {})
        if v:
            t.add_row(
                sample_id,
                *(
                    f"{v[key]:.2e}"
                    for key in (
                        "spinless_max_meV",
                        "spinless_window_max_meV",
                        "soc_max_meV",
                        "soc_window_max_meV",
                        "kspace_time_reversal_error_eV",
                    )
                ),
            )
    get_console().print(t)


@dataset_app.command("stats")
def stats(
    path: Path = typer.Argument(None, help="dataset directory (default: the embedded one)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Samples, elements, sizes, time per sample and reference labels of a dataset."""
    from hts_z2.reference.dataset import dataset_stats

    try:
        s = dataset_stats(path)
    except FileNotFoundError as err:
        fail(str(err))
    if as_json:
        typer.echo(json.dumps(asdict(s), indent=2))
        return
    t = Table(title=f"dataset {s.path}", show_header=False)
    t.add_row("samples", f"{s.n_samples}  (recorded failures: {s.n_failed})")
    t.add_row(
        "elements", f"{len(s.elements)}: " + " ".join(f"{k}({v})" for k, v in s.elements.items())
    )
    t.add_row("atoms / cell", "min {} max {} mean {:.1f}".format(*s.atoms))
    t.add_row("orbitals / cell", "min {} max {} mean {:.1f}".format(*s.orbitals))
    t.add_row("edges (atom pairs)", str(s.edges_total))
    t.add_row("size on disk", f"{s.bytes_on_disk / 1e6:.1f} MB")
    if s.seconds_per_sample:
        t.add_row("time / sample", "mean {:.1f} s, median {:.1f} s".format(*s.seconds_per_sample))
    t.add_row("reference labels", ", ".join(f"{k}: {v}" for k, v in sorted(s.labels.items())))
    t.add_row("max pruning error", f"{s.max_pruning_error_eV * 1e3:.3f} meV")
    get_console().print(t)


@dataset_app.command("recode")
def recode_command(
    paths: list[Path] = typer.Argument(
        None, help="dataset directories (default: the embedded one)"
    ),
) -> None:
    """Rewrite a dataset's samples in the current, compact format (S and SOC stored as
    residuals of their prediction from the basis); every file is checked to read back equal
    before it replaces the old one."""
    from hts_z2.reference.dataset import embedded_dataset_path, iter_sample_paths, recode
    from hts_z2.reference.sample import SampleError

    console = get_console()
    for root in paths or [embedded_dataset_path()]:
        if not (Path(root) / "samples").is_dir():
            fail(f"{root} is not a dataset directory (no samples/ inside)")
        total = len(list(iter_sample_paths(root)))
        with Progress(*progress_columns(), console=console) as bar:
            task = bar.add_task(f"recode {root}", total=total, info="")
            try:
                done = recode(root, on_progress=lambda rec, t=task: bar.advance(t))
            except SampleError as err:
                fail(str(err))
        before = sum(r.bytes_before for r in done)
        after = sum(r.bytes_after for r in done)
        kept = sum(r.format_version < 3 for r in done)
        console.print(
            f"{root}: {len(done)} samples, {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB"
            + (f" ({kept} kept in format 2: elements or shells not in the tables)" if kept else "")
        )


@dataset_app.command("import-deeph")
def import_deeph(
    directories: list[Path] = typer.Argument(..., help="DeepH-layout directories"),
    out: Path = typer.Option(..., "--out", help="dataset directory"),
    n_occ: int = typer.Option(None, help="occupied spinful bands, if info.json lacks n_occ"),
) -> None:
    """Import spinful DeepH-format Hamiltonians (OpenMX/ABACUS users) as training samples."""
    from hts_z2.hamiltonian.formats import read_hamiltonian
    from hts_z2.reference.convert import sample_from_tight_binding
    from hts_z2.reference.dataset import generate

    def make(directory: Path, sample_id: str):
        kwargs = {} if n_occ is None else {"n_occ": n_occ}
        tb = read_hamiltonian(directory, **kwargs)
        return sample_from_tight_binding(tb, sample_id, meta={"source": str(directory)})

    report = generate([(d.name, d) for d in directories], out, make)
    console = get_console()
    console.print(
        f"imported {len(report.done)}, already there {len(report.existing)}, "
        f"failed {len(report.failed)}"
    )
    for sample_id, reason in report.failed.items():
        console.print(f"[yellow]failed[/yellow] {sample_id}: {reason}")


@dataset_app.command("disagreements")
def disagreements(
    out: Path = typer.Argument(..., help="directory for the structure files and manifest"),
    db: str = typer.Option(None, "--db", help="result store (default: the embedded store)"),
    model: str = typer.Option(None, help="only results of this model (name or sha256 prefix)"),
    verdicts: str = typer.Option(
        "rejected,disagrees", help="comma-separated confirmation verdicts to export"
    ),
) -> None:
    """Export the structures where the first-principles confirmation disagrees with the
    model, as the next training set: CIF files plus ``manifest.json`` (model and
    first-principles labels); compute them with ``hts-z2 reference OUT/*.cif --out DATASET``.
    """
    from pymatgen.core import Structure

    from hts_z2.store import StoreUnavailableError, open_store

    wanted = [v.strip() for v in verdicts.split(",") if v.strip()]
    try:
        store = open_store(db)
    except StoreUnavailableError as err:
        fail(str(err))
    with store:
        docs = list(store.find({"confirmation.verdict": {"$in": wanted}}))
    if model:
        docs = [
            d for d in docs if d["model"]["name"] == model or d["model"]["sha256"].startswith(model)
        ]
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for d in docs:
        if not d.get("structure"):
            continue
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in d["material_id"])
        Structure.from_dict(d["structure"]).to(filename=str(out / f"{name}.cif"))
        c = d["confirmation"]
        manifest.append(
            {
                "material_id": d["material_id"],
                "file": f"{name}.cif",
                "model": d["model"]["name"],
                "model_label": d.get("label"),
                "first_principles_label": c.get("label"),
                "verdict": c.get("verdict"),
                "pbe_sensitive": c.get("pbe_sensitive"),
            }
        )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    get_console().print(
        f"exported {len(manifest)} structures where the model and first "
        f"principles disagree -> {out}"
    )
