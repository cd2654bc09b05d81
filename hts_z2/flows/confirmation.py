"""Confirmation of screening results from first principles (the plane-wave label of record).

After the model's gap and Z2, the results a :class:`ConfirmationPolicy` selects (by default
every predicted STI/WTI, and every small-gap or undefined result within the model's
training domain) are checked with :func:`~hts_z2.reference.planewave.planewave_topology`.
The first-principles result is cached by structure fingerprint + method + settings in
``dft_results`` (committed results of the embedded set are seeded there), so a re-run, or
another campaign meeting the same structure, computes nothing again. The verdict is written
into the result document's ``confirmation`` part; the model's own fields are never touched,
and a failure there is recorded as a failed confirmation, never as a lost result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from hts_z2.reference.planewave.settings import METHOD, TOPOLOGY_METHODS, PlaneWaveSettings
from hts_z2.schemas.dft import Confirmation, DftResult
from hts_z2.schemas.labels import is_topological
from hts_z2.schemas.result import ResultDoc

Mode = Literal["none", "candidates", "all"]
MODES: tuple[str, ...] = ("none", "candidates", "all")
ENGINES: tuple[str, ...] = ("gpaw", "vasp-inputs")
SMALL_GAP = 0.3
"""Insulators with a model gap below this (eV) are confirmed under ``candidates``."""


@dataclass(frozen=True)
class ConfirmationPolicy:
    """Which screening results get a first-principles confirmation, and its budget.

    Attributes
    ----------
    mode : ``none``; ``candidates`` (predicted STI/WTI, plus small-gap insulators, undefined
        results and near-insulating metals with topological occupied bands within the
        model's domain); ``all`` (every ``done`` result).
    small_gap : model gap (eV) below which an insulator is a candidate.
    max_structures : at most this many new first-principles runs per campaign (cache hits
        are free); None = no limit.
    max_cpu_hours : stop starting new runs once this much compute has been spent (a Flow
        uses an estimate from the cell size); None = no limit.
    settings : the plane-wave settings (part of the cache key).
    methods : topology methods of the runs (see ``TOPOLOGY_METHODS``); default ``parity``:
        Fu–Kane parity where the cell has inversion (the label of record's method), Wilson
        loops where it has none. ``auto`` adds the Wilson cross-check to centrosymmetric
        cells at 5-15 times the cost (SnTe 1,616 s against PbSe's 105 s).
    engine : ``gpaw`` (run the plane-wave backend) or ``vasp-inputs`` (write VASP + Z2Pack
        input directories below ``vasp_dir`` for a cluster with VASP,
        :mod:`hts_z2.flows.vasp`; their results come back through ``hts-z2 validate``).
    vasp_dir : where ``vasp-inputs`` writes.
    """

    mode: str = "candidates"
    small_gap: float = SMALL_GAP
    max_structures: int | None = None
    max_cpu_hours: float | None = None
    settings: PlaneWaveSettings = field(default_factory=PlaneWaveSettings)
    methods: str = "parity"
    engine: str = "gpaw"
    vasp_dir: str = "vasp-z2pack"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"confirmation engine must be one of {ENGINES}, got {self.engine!r}")
        if self.mode not in MODES:
            raise ValueError(f"confirmation mode must be one of {MODES}, got {self.mode!r}")
        if self.methods not in TOPOLOGY_METHODS:
            raise ValueError(f"methods must be one of {TOPOLOGY_METHODS}, got {self.methods!r}")
        if self.max_structures is not None and self.max_structures < 0:
            raise ValueError("max_structures must be >= 0")
        if self.max_cpu_hours is not None and self.max_cpu_hours < 0:
            raise ValueError("max_cpu_hours must be >= 0")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["settings"] = self.settings.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ConfirmationPolicy:
        d = dict(d)
        d["settings"] = PlaneWaveSettings(**d.get("settings", {}))
        return cls(**d)


def wanted(doc: ResultDoc, policy: ConfirmationPolicy) -> bool:
    """Whether a stored result should be confirmed under ``policy``."""
    if policy.mode == "none" or doc.status != "done" or not doc.structure:
        return False
    if policy.mode == "all":
        return True
    label = doc.label
    if label is not None and label.topological:
        return True
    if doc.domain is not None and not doc.domain.in_domain:
        return False
    if label == "undefined":
        return True
    if label == "metal":
        return doc.z2_manifold is not None and doc.z2_manifold.label.topological
    return doc.gap is not None and doc.gap.indirect < policy.small_gap


BASE_SECONDS = 120.0
COST_PER_ATOM2 = 60.0
"""Single-core seconds of a plane-wave confirmation: ``BASE_SECONDS + COST_PER_ATOM2 *
atoms^2``. Against the committed default-settings runs of the embedded set (one core
each): 1 atom 52-273 s (estimate 180), 2 atoms 64-302 s with parity and 394-1,900 s with
Wilson loops (estimate 360), 5-atom tetradymites 969-2,174 s (estimate 1,620), 6 atoms
260-1,679 s (2,280). A budget estimate, not a promise: Wilson loops of small-gap cells
cost several times more."""


def estimate_seconds(structure) -> float:
    """Rough single-core cost of a plane-wave confirmation (s), for CPU-hour budgets of
    campaigns whose confirmations run elsewhere (a Flow plans them before they run)."""
    return BASE_SECONDS + COST_PER_ATOM2 * len(structure) ** 2


@dataclass
class Tally:
    """What a confirmation pass did."""

    selected: int = 0
    cached: int = 0
    computed: int = 0
    failed: int = 0
    skipped: int = 0
    over_budget: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def confirm_one(
    doc: ResultDoc,
    dft_store: Any,
    policy: ConfirmationPolicy,
    compute: Callable[[Any, str], DftResult] | None = None,
    allow_compute: bool = True,
) -> tuple[Confirmation, str]:
    """First-principles confirmation of one result document.

    Returns the confirmation and how it was obtained: ``cached``, ``computed``,
    ``skipped`` (no compute allowed, or GPAW missing) or ``failed``.
    """
    from pymatgen.core import Structure

    from hts_z2.reference.planewave.backend import structure_fields, unavailable
    from hts_z2.structures.fingerprint import structure_fingerprint

    structure = Structure.from_dict(doc.structure)
    material_id = doc.material_id
    key = policy.settings.key()
    found = dft_store.cached(structure_fingerprint(structure), METHOD, key, policy.methods)
    if found is not None:
        return Confirmation.from_result(doc.label, found, cached=True), "cached"
    why = None if allow_compute else "over the confirmation budget"
    if why is None and policy.engine == "vasp-inputs":
        from hts_z2.flows.vasp import write_vasp_z2pack_inputs

        where = write_vasp_z2pack_inputs(structure, material_id, policy.vasp_dir,
                                         policy.settings)
        why = (f"VASP + Z2Pack inputs written to {where}; run them there and compare with "
               f"`hts-z2 validate {where}`")
    why = why or (None if compute is not None else unavailable())
    if why is not None:
        skipped = DftResult(**structure_fields(structure, material_id, policy.settings),
                            requested=policy.methods, status="skipped", reason=why)
        return Confirmation.from_result(doc.label, skipped, cached=False), "skipped"
    run = compute or _compute(policy)
    try:
        result = run(structure, material_id)
    except Exception as err:  # a confirmation never takes the campaign down
        result = DftResult(**structure_fields(structure, material_id, policy.settings),
                           requested=policy.methods, status="failed",
                           reason=f"{type(err).__name__}: {str(err)[:300]}")
    dft_store.put(result)
    how = "computed" if result.status == "done" else result.status
    return Confirmation.from_result(doc.label, result, cached=False), how


def _compute(policy: ConfirmationPolicy) -> Callable[[Any, str], DftResult]:
    from hts_z2.reference.planewave.backend import planewave_topology

    def run(structure, material_id: str) -> DftResult:
        return planewave_topology(structure, material_id, policy.settings, policy.methods)

    return run


def confirm_pending(
    store: Any,
    dft_store: Any,
    model_sha256: str,
    material_ids: Iterable[str],
    policy: ConfirmationPolicy,
    on_progress: Callable[[str, str], None] | None = None,
    compute: Callable[[Any, str], DftResult] | None = None,
) -> Tally:
    """Confirm the selected results of this model among ``material_ids`` that have no
    finished confirmation yet, in this process (cache first, then compute within the
    budget); writes each verdict into its result document as soon as it is known."""
    tally = Tally()
    if policy.mode == "none":
        return tally
    ids = list(material_ids)
    docs = stored_results(store, model_sha256, ids)
    todo = [d for d in docs if wanted(d, policy) and not finished(d)]
    tally.selected = len(todo)
    todo.sort(key=lambda d: (not is_topological(d.label), d.material_id))
    t0 = time.perf_counter()
    for doc in todo:
        spent_hours = (time.perf_counter() - t0) / 3600
        allow = (policy.max_structures is None or tally.computed < policy.max_structures) and (
            policy.max_cpu_hours is None or spent_hours < policy.max_cpu_hours
        )
        confirmation, how = confirm_one(doc, dft_store, policy, compute, allow)
        if how == "skipped" and not allow:
            tally.over_budget += 1
        else:
            setattr(tally, how, getattr(tally, how) + 1)
        store.set_fields(model_sha256, doc.material_id,
                         {"confirmation": confirmation.model_dump(mode="python")})
        if on_progress is not None:
            on_progress(doc.material_id, confirmation.verdict)
    tally.seconds = time.perf_counter() - t0
    return tally


def finished(doc: ResultDoc) -> bool:
    """A confirmation that needs no new attempt (failed and skipped ones are retried)."""
    return doc.confirmation is not None and doc.confirmation.status == "done"


def stored_results(store: Any, model_sha256: str, material_ids: list[str]) -> list[ResultDoc]:
    """The stored results of this model among ``material_ids`` (read in chunks of 500)."""
    docs = []
    for start in range(0, len(material_ids), 500):
        chunk = material_ids[start:start + 500]
        found = store.find({"model.sha256": model_sha256, "material_id": {"$in": chunk}})
        docs += [ResultDoc.from_stored(d) for d in found]
    return docs
