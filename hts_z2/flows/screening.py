"""Screening: source -> filter -> chunks (inference + gap + Z2) -> result store.

The physics of one chunk lives in :func:`process_chunk`, the streaming of a source into
chunks in :func:`plan`; :func:`run_campaign` drives both in this process. The same steps
as jobflow jobs, and the typed campaign spec both entry points share, are in
:mod:`hts_z2.flows.campaign`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from threadpoolctl import threadpool_limits

from hts_z2.model.domain import domain_caution, domain_doc
from hts_z2.schemas.campaign import CampaignCounts, ScreeningSettings
from hts_z2.schemas.caution import BAND_CODES, DOMAIN_CODES, replace_codes, stored_cautions
from hts_z2.schemas.result import METAL_LABEL, GapDoc, ModelRef, ResultDoc, Z2Doc, versions
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


def _form_option(model: Any, settings: ScreeningSettings) -> dict[str, str]:
    """``{"form": ...}`` for models whose ``predict`` takes the option (the shipped ones);
    a plugged-in model that does not returns its own kind of model."""
    try:
        params = inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return {}
    return {"form": settings.model_form} if "form" in params else {}


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


def bands_device(settings: ScreeningSettings) -> str | None:
    """The torch device of gap and Z2 (``auto`` resolved), or None for numpy."""
    if settings.bands_device is None:
        return None
    from hts_z2.model.device import torch_device

    return str(torch_device(settings.bands_device))


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
        device=bands_device(settings),
    )
    out: dict[str, Any] = {"gap": _gap_doc(a.gap), "timings": a.seconds, "label": a.label}
    for key, value in (("z2", a.z2), ("z2_manifold", a.manifold)):
        if value is not None:
            out[key] = _z2_doc(value)
    out["cautions"] = [a.caution] if a.caution is not None else []
    if a.reason:
        out["reason"] = a.reason
    return out


def _predict(model: HamiltonianModel, records: list[StructureRecord], settings: ScreeningSettings):
    """Hamiltonians per record (or the exception of a record), batched; seconds per record."""
    structures = [r.structure for r in records]
    t0 = time.perf_counter()
    try:
        tbs: list[Any] = list(
            model.predict(
                structures,
                batch_size=settings.batch_size,
                device=settings.device,
                errors="return",
                **_form_option(model, settings),
            )
        )
        if len(tbs) != len(records):
            raise RuntimeError(f"model returned {len(tbs)} Hamiltonians for {len(records)}")
    except Exception:
        tbs = []
        for structure in structures:
            try:
                tbs.append(
                    model.predict(
                        [structure],
                        batch_size=1,
                        device=settings.device,
                        **_form_option(model, settings),
                    )[0]
                )
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
        dense = tb.to_dense() if hasattr(tb, "to_dense") else tb
        return {"hamiltonian": str(write_deeph(dense, target))}
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
    def finish(record: StructureRecord, tb: Any, atoms: Any) -> ResultDoc:
        timings = {"read": t_read, "inference": t_inf}
        if found is not None:
            timings["domain"] = t_dom
        if isinstance(tb, Exception):
            reason = f"inference failed: {type(tb).__name__}: {str(tb)[:300]}"
            return base_doc(record, ref, campaign, status="failed", reason=reason,
                            timings=timings)  # fmt: skip
        try:
            doc = done_doc(record, model, tb, settings, atoms, campaign, timings)
        except Exception as err:
            reason = f"{type(err).__name__}: {str(err)[:300]}"
            return base_doc(record, ref, campaign, status="failed", reason=reason,
                            timings=timings)  # fmt: skip
        if settings.hamiltonian_dir:
            doc.meta.update(_write_hamiltonian(tb, record, model.sha256, settings.hamiltonian_dir))
        release = getattr(tb, "release_device_copies", None)
        if release is not None:  # the chunk's models stay referenced until it ends
            release()
        return doc

    from hts_z2.model.predictor import available_cpus

    jobs = list(zip(todo, tbs, domain, strict=True))
    n_workers = min(len(jobs), settings.workers or available_cpus())
    if n_workers <= 1:
        for job in jobs:
            emit(finish(*job))
        return docs
    # gap and Z2 of several structures at once, each on one BLAS thread: small matrices
    # gain little from threaded BLAS (2 cores: 2.1x the serial rate on 8 demo structures)
    first = len(docs)
    docs.extend([None] * len(jobs))  # type: ignore[list-item]
    with threadpool_limits(1), ThreadPoolExecutor(n_workers, initializer=_one_thread) as pool:
        futures = {pool.submit(finish, *job): k for k, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):  # stored as soon as final
                doc = future.result()
                docs[first + futures[future]] = doc
                if on_doc is not None:
                    on_doc(doc)
        except BaseException:  # a failing store or Ctrl-C: do not finish the chunk first
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return docs


def _one_thread() -> None:
    """Pool initializer: OpenMP regions started from this worker thread (torch on the
    CPU) use one thread; the OpenMP setting is per thread, unlike OpenBLAS's."""
    threadpool_limits(1, user_api="openmp")


def done_doc(
    record: StructureRecord,
    model: HamiltonianModel,
    tb: Any,
    settings: ScreeningSettings,
    atoms: tuple | None = None,
    campaign: str | None = None,
    timings: dict[str, float] | None = None,
) -> ResultDoc:
    """The ``done`` document of one predicted Hamiltonian ``tb``: gap, Z2, cautions (the
    model's band error and, from ``atoms`` = (atomic numbers, atom distances), its
    domain). Screening and ``hts-z2 predict`` both report this document."""
    fields = topology(tb, settings, getattr(model, "band_error", None))
    fields["timings"] = (timings or {}) | fields["timings"]
    fields["domain"] = domain_doc(atoms, getattr(model, "domain", None))
    fields["cautions"] = replace_codes(fields["cautions"], DOMAIN_CODES,
                                       domain_caution(fields["domain"]))
    structure = record.structure.as_dict() if settings.store_structure else None
    ref = ModelRef(name=model.name, sha256=model.sha256)
    return base_doc(record, ref, campaign, status="done", structure=structure, **fields)


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
    lacking = store.lacking_docs(model.sha256, [r.material_id for r in records], "domain",
                                 fields=("caution", "cautions"))
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
        domain = domain_doc(atoms, ref)
        band = [c for c in stored_cautions(lacking[record.material_id]) if c.code in BAND_CODES]
        cautions = replace_codes(band, DOMAIN_CODES, domain_caution(domain))
        store.set_fields(model.sha256, record.material_id, {
            "domain": domain.model_dump(), "cautions": [c.model_dump() for c in cautions]})
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
