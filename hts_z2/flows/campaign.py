"""A screening campaign as one typed spec, run here or as a jobflow Flow.

:class:`CampaignSpec` holds everything a campaign needs (source, store, model, filter,
physics settings, confirmation policy, worker routing). ``hts-z2 screen`` builds one from
its options and runs it in this process with :func:`run_spec`; ``hts-z2 submit`` reads
one from YAML and :class:`ScreeningFlowMaker` turns it into a Flow for ``run_locally``,
FireWorks or jobflow-remote: a planning job streams the source, stores the rejected
materials and replaces itself with one job per chunk (each routable to GPU workers through
``manager_config``), a confirmation planning job and a summary job. Jobs receive the spec
as its JSON document and validate it back, so nothing is converted by hand at a job
boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, Maker, Response, job
from pydantic import BaseModel, ConfigDict, Field

from hts_z2.flows.confirmation import ConfirmationPolicy
from hts_z2.flows.screening import (
    HamiltonianModel,
    plan,
    process_chunk,
    resolve_model,
    run_campaign,
)
from hts_z2.schemas.campaign import CampaignCounts, ScreeningSettings
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec, StructureRecord, iter_source


class CampaignSpec(BaseModel):
    """Everything that defines a screening campaign (one document, JSON round-trip)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SourceSpec = Field(default_factory=SourceSpec,
                               description="what to read (demo, gnome, mp, files)")
    db: str | None = Field(
        None, description="result store: mongodb:// URI or directory; None: the worker's "
        "$HTS_Z2_DB or the default embedded store (credentials stay off the LaunchPad)")
    model: str | None = Field(
        None, description="model name, path or py:module:factory; None: the shipped model")
    campaign: str | None = Field(None, description="campaign name stored with every result")
    chunk_size: int = Field(16, ge=1, description="candidates per chunk (job)")
    candidate_filter: CandidateFilter = Field(
        default_factory=CandidateFilter, description="which structures are candidates")
    settings: ScreeningSettings = Field(default_factory=ScreeningSettings,
                                        description="per-material physics settings")
    confirmation: ConfirmationPolicy | None = Field(
        None, description="first-principles confirmation policy; None: no confirmation")
    chunk_manager_config: dict[str, Any] = Field(
        default_factory=dict, description="manager_config of the chunk jobs (GPU routing: "
        "{'_fworker': 'gpu'} for FireWorks, {'worker': 'gpu'} for jobflow-remote)")
    confirm_manager_config: dict[str, Any] = Field(
        default_factory=dict, description="manager_config of the confirmation jobs (CPU "
        "workers with GPAW)")

    def to_job(self) -> dict[str, Any]:
        """The spec as the JSON document jobs receive."""
        return self.model_dump(mode="json")

    @property
    def confirming(self) -> bool:
        """A confirmation other than ``none`` is asked for."""
        return self.confirmation is not None and self.confirmation.mode != "none"


def run_spec(
    spec: CampaignSpec,
    store: Any,
    model: HamiltonianModel | None = None,
    on_progress: Callable[[CampaignCounts], None] | None = None,
    on_confirm: Callable[[str, str], None] | None = None,
    read_ids: list[str] | None = None,
) -> CampaignCounts:
    """Run a campaign in this process into the open ``store`` (``model``: an already
    resolved model, else ``spec.model``); see :func:`~hts_z2.flows.screening.run_campaign`
    for the callbacks."""
    return run_campaign(
        spec.source, model if model is not None else resolve_model(spec.model), store,
        spec.candidate_filter, spec.settings, spec.campaign, spec.chunk_size, on_progress,
        confirmation=spec.confirmation, on_confirm=on_confirm, read_ids=read_ids,
    )


def _open(db: str | None) -> Any:
    from hts_z2.store import open_store

    return open_store(db)


@job
def screening_chunk_job(refs: list[dict], spec: dict) -> CampaignCounts:
    """Screen one chunk of candidates (``refs`` from ``StructureRecord.to_ref``) into the
    spec's store."""
    resolved = CampaignSpec.model_validate(spec)
    records = [StructureRecord.from_ref(r) for r in refs]
    with _open(resolved.db) as store:
        counts = process_chunk(records, resolve_model(resolved.model), store,
                               resolved.candidate_filter, resolved.settings, resolved.campaign)
    return counts.model_copy(update={"read": 0})


@job
def campaign_summary_job(parts: list[CampaignCounts]) -> CampaignCounts:
    """Total counts of a campaign (planning counts plus every chunk)."""
    total = CampaignCounts()
    for part in parts:
        total = total.add(part if isinstance(part, CampaignCounts) else CampaignCounts(**part))
    return total


@job
def confirm_job(material_id: str, model_sha256: str, spec: dict) -> CampaignCounts:
    """First-principles confirmation of one stored result (its own job: routable to CPU
    workers apart from the GPU inference). Its failure is recorded in the result's
    ``confirmation``; the model's result is never touched."""
    from hts_z2.flows.confirmation import confirm_one, stored_results
    from hts_z2.store.dft import open_dft_store

    resolved = CampaignSpec.model_validate(spec)
    with _open(resolved.db) as store, open_dft_store(store.raw_location) as dft:
        found = stored_results(store, model_sha256, [material_id])
        if not found:
            return CampaignCounts(confirmation={"failed": 1})
        confirmation, how = confirm_one(found[0], dft, resolved.confirmation)
        store.set_fields(model_sha256, material_id,
                         {"confirmation": confirmation.model_dump(mode="python")})
    return CampaignCounts(confirmation={how: 1})


@job
def confirmation_plan_job(
    material_ids: list[str], model_sha256: str, spec: dict, after: list | None = None
) -> Response:
    """After the chunks (``after``): apply cached first-principles results to the selected
    results, and replace itself with one :func:`confirm_job` per structure that needs a new
    run, within the policy's budget (CPU hours estimated from the cell size)."""
    from pymatgen.core import Structure

    from hts_z2.flows.confirmation import (
        confirm_one,
        estimate_seconds,
        finished,
        stored_results,
        wanted,
    )
    from hts_z2.store.dft import open_dft_store

    resolved = CampaignSpec.model_validate(spec)
    policy = resolved.confirmation
    counts: dict[str, float] = {}
    jobs = []
    planned_seconds = 0.0
    with _open(resolved.db) as store, open_dft_store(store.raw_location) as dft:
        docs = stored_results(store, model_sha256, material_ids)
        todo = [d for d in docs if wanted(d, policy) and not finished(d)]
        for doc in sorted(todo, key=lambda d: d.material_id):
            confirmation, how = confirm_one(doc, dft, policy, allow_compute=False)
            if how == "cached":
                store.set_fields(model_sha256, doc.material_id,
                                 {"confirmation": confirmation.model_dump(mode="python")})
                counts["cached"] = counts.get("cached", 0) + 1
                continue
            cost = estimate_seconds(Structure.from_dict(doc.structure))
            over = (policy.max_structures is not None and len(jobs) >= policy.max_structures
                    ) or (policy.max_cpu_hours is not None
                          and (planned_seconds + cost) / 3600 > policy.max_cpu_hours)
            if over:
                store.set_fields(model_sha256, doc.material_id,
                                 {"confirmation": confirmation.model_dump(mode="python")})
                counts["over_budget"] = counts.get("over_budget", 0) + 1
                continue
            planned_seconds += cost
            j = confirm_job(doc.material_id, model_sha256, spec)
            j.name = f"confirm {doc.material_id}"
            if resolved.confirm_manager_config:
                j.update_config({"manager_config": resolved.confirm_manager_config})
            jobs.append(j)
    counts["selected"] = len(todo)
    summary = campaign_summary_job([CampaignCounts(confirmation=counts),
                                    *(j.output for j in jobs)])
    summary.name = "confirmation summary"
    return Response(replace=Flow([*jobs, summary], output=summary.output))


@job
def screening_plan_job(spec: dict) -> Response:
    """Stream the source, store rejections, and replace itself with the chunk jobs (then a
    confirmation planning job when the spec asks for confirmation)."""
    resolved = CampaignSpec.model_validate(spec)
    model = resolve_model(resolved.model)
    jobs = []
    screened: list[str] = []
    planned = CampaignCounts()
    with _open(resolved.db) as store:
        steps = plan(iter_source(resolved.source), model, store, resolved.candidate_filter,
                     resolved.campaign, resolved.chunk_size, resolved.settings.recompute)
        for i, (chunk, counts) in enumerate(steps):
            planned = planned.add(counts)
            if not chunk:
                continue
            screened += [r.material_id for r in chunk]
            j = screening_chunk_job([r.to_ref() for r in chunk], spec)
            j.name = f"screen chunk {i}"
            if resolved.chunk_manager_config:
                j.update_config({"manager_config": resolved.chunk_manager_config})
            jobs.append(j)
    parts = [planned, *(j.output for j in jobs)]
    if resolved.confirming and screened:
        check = confirmation_plan_job(screened, model.sha256, spec,
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
    name : the Flow's name.
    spec : the campaign (its ``source`` is replaced by the one given to :meth:`make`).
    """

    name: str = "hts-z2 screening"
    spec: CampaignSpec = field(default_factory=CampaignSpec)

    def make(self, source: SourceSpec | None = None) -> Flow:
        """The campaign flow for ``source`` (default: the spec's)."""
        spec = self.spec if source is None else self.spec.model_copy(update={"source": source})
        planner = screening_plan_job(spec.to_job())
        planner.name = f"plan {spec.campaign or spec.source.kind}"
        return Flow([planner], output=planner.output, name=self.name)
