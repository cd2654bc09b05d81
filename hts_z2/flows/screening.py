"""Screening campaigns: source -> filter -> chunks (inference + gap + Z2) -> result store.

The physics of one chunk lives in :func:`process_chunk`; :func:`run_campaign` drives it
in-process (``hts-z2 screen``), and :class:`ScreeningFlowMaker` wraps the same two steps as
jobflow jobs for ``run_locally``, FireWorks or jobflow-remote: a planning job streams the
source, stores the rejected materials and replaces itself with one job per chunk (each
routable to GPU workers through ``manager_config``) and a summary job.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from jobflow import Flow, Maker, Response, job
from pydantic import BaseModel

from hts_z2.model.domain import domain_fields
from hts_z2.store.schema import METAL_LABEL, GapDoc, ModelRef, ResultDoc, Z2Doc, versions
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec, StructureRecord, iter_source, load_structures


@runtime_checkable
class HamiltonianModel(Protocol):
    """What screening needs of a model (``hts_z2.model.load_model`` returns one)."""

    name: str
    sha256: str
    elements: frozenset[int]

    def predict(
        self, structures: list, batch_size: int = 8, device: str = "cpu", errors: str = "raise"
    ) -> list: ...


@dataclass(frozen=True)
class ScreeningSettings:
    """Per-material physics settings shared by all chunks.

    Attributes
    ----------
    kspacing : band-gap grid spacing (1/Å, 2π included).
    z2_method : ``"fhs"`` or ``"wilson"``.
    z2_max_gap : compute Z2 only for gaps up to this (eV; the paper uses 0.3); None = all.
    z2_n_max : largest plane grid of the Z2 refinement.
    batch_size, device : inference batching and torch device.
    store_structure : keep the structure (pymatgen dict) in each result document.
    hamiltonian_dir : also write each predicted Hamiltonian (DeepH layout) below this.
    recompute : screen materials this model already has results for again and replace them
        (otherwise a stored result is kept, and never replaced by a worse one).
    """

    kspacing: float = 0.15
    z2_method: str = "fhs"
    z2_max_gap: float | None = None
    z2_n_max: int = 64
    batch_size: int = 8
    device: str = "cpu"
    store_structure: bool = True
    hamiltonian_dir: str | None = None
    recompute: bool = False

    def __post_init__(self) -> None:
        if not (self.kspacing > 0 and math.isfinite(self.kspacing)):
            raise ValueError(f"kspacing must be a positive number (1/Å), got {self.kspacing}")
        if self.z2_max_gap is not None and math.isnan(self.z2_max_gap):
            raise ValueError("z2_max_gap must be a number (eV) or None")
        if self.batch_size < 1 or self.z2_n_max < 2:
            raise ValueError(f"batch_size must be >= 1 and z2_n_max >= 2, got "
                             f"{self.batch_size} and {self.z2_n_max}")


class CampaignCounts(BaseModel):
    """Materials by outcome; ``read = done + skipped + failed``.

    ``existing``: done results found in the store (not screened again); ``kept``: materials
    this run rejected or could not read whose earlier, better result stays stored.
    """

    read: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    existing: int = 0
    kept: int = 0
    backfilled: int = 0
    seconds: dict[str, float] = {}
    confirmation: dict[str, float] = {}

    def add(self, other: CampaignCounts) -> CampaignCounts:
        """Sum of two counts (stage seconds added)."""
        seconds = dict(self.seconds)
        for stage, s in other.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + s
        confirmation = dict(self.confirmation)
        for what, n in other.confirmation.items():
            confirmation[what] = confirmation.get(what, 0) + n
        return CampaignCounts(
            read=self.read + other.read,
            done=self.done + other.done,
            skipped=self.skipped + other.skipped,
            failed=self.failed + other.failed,
            existing=self.existing + other.existing,
            kept=self.kept + other.kept,
            backfilled=self.backfilled + other.backfilled,
            seconds=seconds,
            confirmation=confirmation,
        )


def resolve_model(spec: str | HamiltonianModel | None) -> HamiltonianModel:
    """A model object from a name, a path, ``"py:module:factory"`` or a model itself.

    ``None`` is the shipped default (``hts_z2.model.load_model(None)``); ``py:`` specs call a
    factory importable on the workers (custom models, test doubles).
    """
    if spec is not None and not isinstance(spec, str):
        return spec
    if spec and spec.startswith("py:"):
        from importlib import import_module

        module, _, attr = spec[3:].partition(":")
        return getattr(import_module(module), attr)()
    try:
        from hts_z2.model import load_model
    except ImportError as err:
        raise RuntimeError(f"no Hamiltonian model available (hts_z2.model: {err})") from err
    return load_model(spec)


def base_doc(
    record: StructureRecord, model: ModelRef, campaign: str | None, **kw: Any
) -> ResultDoc:
    """A result document with the record's identity filled in."""
    elements = record.elements or []
    source_ids = {record.source: record.material_id}
    return ResultDoc(
        material_id=record.material_id,
        source=record.source,
        source_ids=source_ids,
        formula=record.formula,
        elements=list(elements),
        nelements=len(elements) or None,
        nsites=record.nsites,
        spacegroup=record.spacegroup,
        campaign=campaign,
        model=model,
        meta={k: v for k, v in record.meta.items() if v is not None},
        versions=versions(),
        **kw,
    )


def triage(
    record: StructureRecord, candidate_filter: CandidateFilter, model_elements: frozenset[int]
) -> tuple[str, str] | None:
    """``(status, reason)`` for a record that is not a candidate by its metadata, else None."""
    if record.error:
        return "failed", record.error
    reason = candidate_filter.check_metadata(
        record.elements, record.nsites, model_elements, record.meta.get("ordering")
    )
    return None if reason is None else ("skipped", reason)


def _gap_doc(gap: Any) -> GapDoc:
    return GapDoc(
        indirect=float(gap.indirect),
        direct=float(gap.direct),
        is_metal=bool(gap.is_metal),
        n_k=int(gap.n_k),
        k_vbm=[float(x) for x in gap.k_vbm],
        k_cbm=[float(x) for x in gap.k_cbm],
    )


def _z2_doc(res: Any) -> Z2Doc:
    return Z2Doc(
        planes=None if res.planes is None else list(res.planes),
        nu0=res.nu0,
        nu=None if res.nu is None else list(res.nu),
        label=res.label,
        min_plane_gap=res.min_plane_gap,
        converged=bool(res.converged),
        method=res.method,
        grid=None if res.grid is None else list(res.grid),
        reason=res.reason,
        lattice=None if res.lattice is None else [list(r) for r in res.lattice],
    )


def topology(
    tb: Any, settings: ScreeningSettings, band_error: float | None = None
) -> dict[str, Any]:
    """The fields of a ``done`` document and stage seconds, from
    :func:`~hts_z2.topology.assess.assess` (gap over the band grid and the Z2 planes,
    Z2, caution below ``band_error``, a near-insulating metal's occupied-band Z2)."""
    from hts_z2.topology.assess import assess

    a = assess(
        tb,
        settings.kspacing,
        band_error,
        method=settings.z2_method,
        n_max=settings.z2_n_max,
        z2_max_gap=settings.z2_max_gap,
    )
    out: dict[str, Any] = {"gap": _gap_doc(a.gap), "timings": a.seconds, "label": a.label}
    for key, value in (("z2", a.z2), ("z2_manifold", a.manifold)):
        if value is not None:
            out[key] = _z2_doc(value)
    for key, value in (("caution", a.caution), ("reason", a.reason)):
        if value:
            out[key] = value
    return out


def _predict(model: HamiltonianModel, records: list[StructureRecord], settings: ScreeningSettings):
    """Hamiltonians per record (or the exception of a record), batched; seconds per record."""
    structures = [r.structure for r in records]
    t0 = time.perf_counter()
    try:
        tbs: list[Any] = list(
            model.predict(
                structures, batch_size=settings.batch_size, device=settings.device, errors="return"
            )
        )
        if len(tbs) != len(records):
            raise RuntimeError(f"model returned {len(tbs)} Hamiltonians for {len(records)}")
    except Exception:
        tbs = []
        for structure in structures:
            try:
                tbs.append(model.predict([structure], batch_size=1, device=settings.device)[0])
            except Exception as err:
                tbs.append(err)
    return tbs, (time.perf_counter() - t0) / max(1, len(records))


def _domain_atoms(model: Any, structures: list[Any], device: str) -> list[Any] | None:
    """Per structure (atomic numbers, atom distances) to the model's training domain;
    None when the model has no reference or the measurement fails (a distance is a
    caution, never a reason to fail a material or a campaign)."""
    measure = getattr(model, "domain_atoms", None)
    if measure is None or getattr(model, "domain", None) is None:
        return None
    try:
        return measure(structures, device=device)
    except Exception:
        return None


def _write_hamiltonian(tb: Any, record: StructureRecord, sha: str, root: str) -> dict[str, str]:
    from hts_z2.hamiltonian.formats import write_deeph

    target = Path(root) / f"{record.material_id}__{sha[:12]}"
    try:
        return {"hamiltonian": str(write_deeph(tb, target))}
    except Exception as err:
        return {"hamiltonian_error": str(err)[:300]}


def screen_records(
    records: list[StructureRecord],
    model: HamiltonianModel,
    candidate_filter: CandidateFilter,
    settings: ScreeningSettings,
    campaign: str | None = None,
    on_doc: Callable[[ResultDoc], None] | None = None,
) -> list[ResultDoc]:
    """Result documents for one chunk: load, filter, predict (batched), gap, Z2.

    Never raises for a single material: problems become ``failed`` or ``skipped``
    documents with a reason. ``on_doc`` receives each document as soon as it is final (a
    store persists it there: a killed run loses at most the material in flight).
    """
    ref = ModelRef(name=model.name, sha256=model.sha256)
    t0 = time.perf_counter()
    load_structures(records)
    t_read = (time.perf_counter() - t0) / max(1, len(records))
    docs: list[ResultDoc] = []
    todo: list[StructureRecord] = []

    def emit(doc: ResultDoc) -> None:
        docs.append(doc)
        if on_doc is not None:
            on_doc(doc)

    for record in records:
        if record.error or record.structure is None:
            reason = record.error or "no structure"
            emit(base_doc(record, ref, campaign, status="failed", reason=reason))
            continue
        reason = candidate_filter.check_structure(record.structure, model.elements)
        if reason:
            emit(base_doc(record, ref, campaign, status="skipped", reason=reason))
            continue
        count = getattr(model, "valence_electrons", None)
        n_el = count(record.structure) if count is not None else 0
        if n_el % 2:
            reason = f"odd number of valence electrons ({n_el}): metallic by electron counting"
            emit(
                base_doc(record, ref, campaign, status="done", label=METAL_LABEL, reason=reason)
            )
            continue
        todo.append(record)
    if not todo:
        return docs
    tbs, t_inf = _predict(model, todo, settings)
    ok = [k for k, tb in enumerate(tbs) if not isinstance(tb, Exception)]
    t0 = time.perf_counter()
    found = _domain_atoms(model, [todo[k].structure for k in ok], settings.device)
    t_dom = (time.perf_counter() - t0) / max(1, len(todo))
    domain: list[Any] = [None] * len(todo)
    for k, atoms in zip(ok, found or [None] * len(ok), strict=True):
        domain[k] = atoms
    for record, tb, atoms in zip(todo, tbs, domain, strict=True):
        structure = record.structure.as_dict() if settings.store_structure else None
        timings = {"read": t_read, "inference": t_inf}
        if found is not None:
            timings["domain"] = t_dom
        if isinstance(tb, Exception):
            reason = f"inference failed: {type(tb).__name__}: {str(tb)[:300]}"
            emit(
                base_doc(record, ref, campaign, status="failed", reason=reason, timings=timings)
            )
            continue
        try:
            fields = topology(tb, settings, getattr(model, "band_error", None))
        except Exception as err:
            reason = f"{type(err).__name__}: {str(err)[:300]}"
            emit(
                base_doc(record, ref, campaign, status="failed", reason=reason, timings=timings)
            )
            continue
        fields["timings"] = timings | fields["timings"]
        fields |= domain_fields(atoms, getattr(model, "domain", None), fields.get("caution"))
        doc = base_doc(record, ref, campaign, status="done", structure=structure, **fields)
        if settings.hamiltonian_dir:
            doc.meta.update(_write_hamiltonian(tb, record, model.sha256, settings.hamiltonian_dir))
        emit(doc)
    return docs


def process_chunk(
    records: list[StructureRecord],
    model: HamiltonianModel,
    store: Any,
    candidate_filter: CandidateFilter,
    settings: ScreeningSettings,
    campaign: str | None = None,
) -> CampaignCounts:
    """Screen the records not yet done for this model and upsert their documents."""
    done_before = {} if settings.recompute else store.existing(
        model.sha256, [r.material_id for r in records])
    todo = [r for r in records if done_before.get(r.material_id) != "done"]
    stored = [r for r in records if done_before.get(r.material_id) == "done"]
    existing = len(stored)
    t0 = time.perf_counter()
    backfilled = backfill_domain(stored, model, store, settings)
    t_backfill = time.perf_counter() - t0
    t_store = [0.0]

    def persist(doc: ResultDoc) -> None:  # one by one: a kill loses the material in flight
        t = time.perf_counter()
        store.upsert([doc], recompute=settings.recompute)
        t_store[0] += time.perf_counter() - t

    docs = screen_records(todo, model, candidate_filter, settings, campaign, on_doc=persist)
    seconds: dict[str, float] = {"store": t_store[0]}
    if backfilled:
        seconds["domain"] = t_backfill
    for doc in docs:
        for stage, s in doc.timings.items():
            seconds[stage] = seconds.get(stage, 0.0) + s
    status = [d.status for d in docs]
    return CampaignCounts(
        read=len(records),
        done=status.count("done") + existing,
        skipped=status.count("skipped"),
        failed=status.count("failed"),
        existing=existing,
        backfilled=backfilled,
        seconds=seconds,
    )


def backfill_domain(
    records: list[StructureRecord], model: Any, store: Any, settings: ScreeningSettings
) -> int:
    """Give the ``done`` documents of this model that were stored without domain
    distances (screened before the model had a reference) their distances, and the domain
    caution beyond the threshold; nothing else in them changes. Returns how many were
    updated."""
    ref = getattr(model, "domain", None)
    if ref is None or not records:
        return 0
    lacking = store.lacking(model.sha256, [r.material_id for r in records], "in_domain")
    todo = [r for r in records if r.material_id in lacking]
    if not todo:
        return 0
    load_structures(todo)
    todo = [r for r in todo if r.structure is not None]
    found = _domain_atoms(model, [r.structure for r in todo], settings.device)
    if found is None:
        return 0
    n = 0
    for record, atoms in zip(todo, found, strict=True):
        if atoms is None:  # no environment graph: nothing to add
            continue
        fields = domain_fields(atoms, ref, lacking[record.material_id]["caution"])
        store.set_fields(model.sha256, record.material_id, fields)
        n += 1
    return n


def plan(
    records: Iterable[StructureRecord],
    model: HamiltonianModel,
    store: Any,
    candidate_filter: CandidateFilter,
    campaign: str | None,
    chunk_size: int,
    recompute: bool = False,
) -> Iterator[tuple[list[StructureRecord], CampaignCounts]]:
    """Stream ``(chunk of candidates, counts of what the metadata already settled)``.

    Rejected and unreadable records are upserted as ``skipped`` / ``failed`` here, so that
    only candidates travel to the (possibly remote) chunk jobs; one that already has a
    better stored result (e.g. screened before a stricter filter) keeps it and is counted
    in ``kept`` (replaced only with ``recompute``). The last pair may carry an empty chunk.
    """

    def store_rejected(docs: list[ResultDoc]) -> int:
        written = store.upsert(docs, recompute=recompute)
        return len(docs) - written

    ref = ModelRef(name=model.name, sha256=model.sha256)
    chunk: list[StructureRecord] = []
    rejected: list[ResultDoc] = []
    counts = CampaignCounts()
    t_read = time.perf_counter()
    for record in records:
        counts.read += 1
        verdict = triage(record, candidate_filter, model.elements)
        if verdict is None:
            chunk.append(record)
        else:
            status, reason = verdict
            rejected.append(base_doc(record, ref, campaign, status=status, reason=reason))
            setattr(counts, status, getattr(counts, status) + 1)
        if len(chunk) >= chunk_size or len(rejected) >= 500:
            counts.kept += store_rejected(rejected)
            rejected = []
        if len(chunk) >= chunk_size:
            counts.seconds = {"read": time.perf_counter() - t_read}
            yield chunk, counts
            chunk, counts = [], CampaignCounts()
            t_read = time.perf_counter()
    counts.kept += store_rejected(rejected)
    counts.seconds = {"read": time.perf_counter() - t_read}
    yield chunk, counts


def run_campaign(
    source: SourceSpec,
    model: HamiltonianModel,
    store: Any,
    candidate_filter: CandidateFilter | None = None,
    settings: ScreeningSettings | None = None,
    campaign: str | None = None,
    chunk_size: int = 16,
    on_progress: Callable[[CampaignCounts], None] | None = None,
    mp_summary: Any = None,
    confirmation: Any = None,
    dft_store: Any = None,
    on_confirm: Callable[[str, str], None] | None = None,
    read_ids: list[str] | None = None,
) -> CampaignCounts:
    """Screen a whole source in this process, chunk by chunk (re-runs skip done materials),
    then confirm the selected results from first principles.

    ``read_ids``, when given, receives the id of every material this run read (a caller
    shows this run's results, not the whole store's).

    ``on_progress`` receives the counts added by each step (planning or a chunk);
    ``confirmation`` is a :class:`~hts_z2.flows.confirmation.ConfirmationPolicy` (None: no
    confirmation) whose results go to ``dft_store`` (default: the first-principles cache of
    the same store location); ``on_confirm(material_id, verdict)`` follows it.
    """
    candidate_filter = candidate_filter or CandidateFilter()
    settings = settings or ScreeningSettings()
    total = CampaignCounts()
    screened: list[str] = []
    records = iter_source(source, mp_summary=mp_summary)
    if read_ids is not None:
        records = _noting(records, read_ids)
    for chunk, counts in plan(records, model, store, candidate_filter, campaign, chunk_size,
                              settings.recompute):
        step = counts
        if chunk:
            chunk_counts = process_chunk(chunk, model, store, candidate_filter, settings, campaign)
            step = counts.add(chunk_counts.model_copy(update={"read": 0}))
            screened += [r.material_id for r in chunk]
        total = total.add(step)
        if on_progress is not None:
            on_progress(step)
    if confirmation is not None and confirmation.mode != "none" and screened:
        tally = _confirm(store, dft_store, model.sha256, screened, confirmation, on_confirm)
        total = total.model_copy(update={"confirmation": tally.to_dict()})
    return total


def _noting(records: Iterable[StructureRecord], ids: list[str]) -> Iterator[StructureRecord]:
    for record in records:
        ids.append(record.material_id)
        yield record


def _confirm(store, dft_store, model_sha256, ids, policy, on_confirm):
    from hts_z2.flows.confirmation import confirm_pending

    if dft_store is not None:
        return confirm_pending(store, dft_store, model_sha256, ids, policy, on_confirm)
    with _dft_store_beside(store) as dft:
        return confirm_pending(store, dft, model_sha256, ids, policy, on_confirm)


def _dft_store_beside(store: Any) -> Any:
    """The first-principles cache in the same location as ``store``."""
    from hts_z2.store.dft import open_dft_store

    location = getattr(store, "raw_location", None) or store.location
    return open_dft_store(location)


def _filter_from_dict(d: dict) -> CandidateFilter:
    d = dict(d)
    if "magnetic_elements" in d:
        d["magnetic_elements"] = frozenset(d["magnetic_elements"])
    return CandidateFilter(**d)


def _open(db: str | None) -> Any:
    from hts_z2.store import open_store

    return open_store(db)


@job
def screening_chunk_job(
    refs: list[dict],
    db: str | None,
    model: str | None,
    candidate_filter: dict,
    settings: dict,
    campaign: str | None = None,
) -> CampaignCounts:
    """Screen one chunk of candidates (``refs`` from ``StructureRecord.to_ref``) into ``db``.

    ``db`` None lets the worker read ``$HTS_Z2_DB`` (credentials stay off the LaunchPad).
    """
    records = [StructureRecord.from_ref(r) for r in refs]
    with _open(db) as store:
        counts = process_chunk(
            records,
            resolve_model(model),
            store,
            _filter_from_dict(candidate_filter),
            ScreeningSettings(**settings),
            campaign,
        )
    return counts.model_copy(update={"read": 0})


@job
def campaign_summary_job(parts: list[CampaignCounts]) -> CampaignCounts:
    """Total counts of a campaign (planning counts plus every chunk)."""
    total = CampaignCounts()
    for part in parts:
        total = total.add(part if isinstance(part, CampaignCounts) else CampaignCounts(**part))
    return total


@job
def confirm_job(material_id: str, model_sha256: str, db: str | None, policy: dict
                ) -> CampaignCounts:
    """First-principles confirmation of one stored result (its own job: routable to CPU
    workers apart from the GPU inference). Its failure is recorded in the result's
    ``confirmation``; the model's result is never touched."""
    from hts_z2.flows.confirmation import ConfirmationPolicy, confirm_one
    from hts_z2.store.dft import open_dft_store

    resolved = ConfirmationPolicy.from_dict(policy)
    with _open(db) as store, open_dft_store(store.raw_location) as dft:
        found = list(store.find({"material_id": material_id, "model.sha256": model_sha256}))
        if not found:
            return CampaignCounts(confirmation={"failed": 1})
        confirmation, how = confirm_one(found[0], dft, resolved)
        store.set_fields(model_sha256, material_id,
                         {"confirmation": confirmation.model_dump(mode="python")})
    return CampaignCounts(confirmation={how: 1})


@job
def confirmation_plan_job(
    material_ids: list[str],
    model_sha256: str,
    db: str | None,
    policy: dict,
    manager_config: dict,
    after: list | None = None,
) -> Response:
    """After the chunks (``after``): apply cached first-principles results to the selected
    results, and replace itself with one :func:`confirm_job` per structure that needs a new
    run, within the policy's budget (CPU hours estimated from the cell size)."""
    from pymatgen.core import Structure

    from hts_z2.flows.confirmation import (
        ConfirmationPolicy,
        confirm_one,
        estimate_seconds,
        finished,
        wanted,
    )
    from hts_z2.store.dft import open_dft_store

    resolved = ConfirmationPolicy.from_dict(policy)
    counts: dict[str, float] = {}
    jobs = []
    planned_seconds = 0.0
    with _open(db) as store, open_dft_store(store.raw_location) as dft:
        docs = []
        for start in range(0, len(material_ids), 500):
            docs += list(store.find({"model.sha256": model_sha256,
                                     "material_id": {"$in": material_ids[start: start + 500]}}))
        todo = [d for d in docs if wanted(d, resolved) and not finished(d)]
        for doc in sorted(todo, key=lambda d: d["material_id"]):
            confirmation, how = confirm_one(doc, dft, resolved, allow_compute=False)
            if how == "cached":
                store.set_fields(model_sha256, doc["material_id"],
                                 {"confirmation": confirmation.model_dump(mode="python")})
                counts["cached"] = counts.get("cached", 0) + 1
                continue
            cost = estimate_seconds(Structure.from_dict(doc["structure"]))
            over = (resolved.max_structures is not None and len(jobs) >= resolved.max_structures
                    ) or (resolved.max_cpu_hours is not None
                          and (planned_seconds + cost) / 3600 > resolved.max_cpu_hours)
            if over:
                store.set_fields(model_sha256, doc["material_id"],
                                 {"confirmation": confirmation.model_dump(mode="python")})
                counts["over_budget"] = counts.get("over_budget", 0) + 1
                continue
            planned_seconds += cost
            j = confirm_job(doc["material_id"], model_sha256, db, policy)
            j.name = f"confirm {doc['material_id']}"
            if manager_config:
                j.update_config({"manager_config": manager_config})
            jobs.append(j)
    counts["selected"] = len(todo)
    summary = campaign_summary_job([CampaignCounts(confirmation=counts),
                                    *(j.output for j in jobs)])
    summary.name = "confirmation summary"
    return Response(replace=Flow([*jobs, summary], output=summary.output))


@job
def screening_plan_job(
    source: dict,
    db: str | None,
    model: str | None,
    candidate_filter: dict,
    settings: dict,
    campaign: str | None,
    chunk_size: int,
    chunk_manager_config: dict,
    confirmation: dict | None = None,
    confirm_manager_config: dict | None = None,
) -> Response:
    """Stream the source, store rejections, and replace itself with the chunk jobs (then a
    confirmation planning job when ``confirmation`` is a policy other than ``none``)."""
    resolved = resolve_model(model)
    jobs = []
    screened: list[str] = []
    planned = CampaignCounts()
    with _open(db) as store:
        records = iter_source(SourceSpec(**source))
        steps = plan(records, resolved, store, _filter_from_dict(candidate_filter), campaign,
                     chunk_size, bool(settings.get("recompute", False)))
        for i, (chunk, counts) in enumerate(steps):
            planned = planned.add(counts)
            if not chunk:
                continue
            refs = [r.to_ref() for r in chunk]
            screened += [r.material_id for r in chunk]
            j = screening_chunk_job(refs, db, model, candidate_filter, settings, campaign)
            j.name = f"screen chunk {i}"
            if chunk_manager_config:
                j.update_config({"manager_config": chunk_manager_config})
            jobs.append(j)
    parts = [planned, *(j.output for j in jobs)]
    if confirmation and confirmation.get("mode", "none") != "none" and screened:
        check = confirmation_plan_job(screened, resolved.sha256, db, confirmation,
                                      confirm_manager_config or {},
                                      after=[j.output for j in jobs])
        check.name = "plan confirmations"
        jobs.append(check)
        parts.append(check.output)
    summary = campaign_summary_job(parts)
    summary.name = "campaign summary"
    return Response(replace=Flow([*jobs, summary], output=summary.output))


@dataclass
class ScreeningFlowMaker(Maker):
    """A screening campaign as a jobflow Flow.

    Attributes
    ----------
    db : result store location (``mongodb://`` URI or directory); None = the worker's
        ``$HTS_Z2_DB`` or default store.
    model : model name, path or ``py:module:factory``; None = the shipped model.
    campaign : campaign name recorded in every document.
    chunk_size : candidates per chunk job.
    candidate_filter, settings : see :class:`CandidateFilter`, :class:`ScreeningSettings`.
    chunk_manager_config : ``manager_config`` of the chunk jobs (e.g. GPU worker routing:
        ``{"_fworker": "gpu"}`` for FireWorks, ``{"worker": "gpu"}`` for jobflow-remote).
    confirmation : first-principles confirmation policy
        (:class:`~hts_z2.flows.confirmation.ConfirmationPolicy`); None = none.
    confirm_manager_config : ``manager_config`` of the confirmation jobs (CPU workers with
        GPAW, e.g. ``{"_fworker": "cpu"}``).
    """

    name: str = "hts-z2 screening"
    db: str | None = None
    model: str | None = None
    campaign: str | None = None
    chunk_size: int = 16
    candidate_filter: CandidateFilter = field(default_factory=CandidateFilter)
    settings: ScreeningSettings = field(default_factory=ScreeningSettings)
    chunk_manager_config: dict = field(default_factory=dict)
    confirmation: Any = None
    confirm_manager_config: dict = field(default_factory=dict)

    def make(self, source: SourceSpec) -> Flow:
        """The campaign flow for one source."""
        filt = asdict(self.candidate_filter)
        filt["magnetic_elements"] = sorted(filt["magnetic_elements"])
        planner = screening_plan_job(
            asdict(source),
            self.db,
            self.model,
            filt,
            asdict(self.settings),
            self.campaign,
            self.chunk_size,
            self.chunk_manager_config,
            None if self.confirmation is None else self.confirmation.to_dict(),
            self.confirm_manager_config,
        )
        planner.name = f"plan {self.campaign or source.kind}"
        return Flow([planner], output=planner.output, name=self.name)
