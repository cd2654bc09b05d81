"""Campaign specs (YAML) and their submission to FireWorks, jobflow-remote or run_locally."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hts_z2.flows.campaign import CampaignSpec, ScreeningFlowMaker
from hts_z2.flows.confirmation import ConfirmationPolicy
from hts_z2.reference.planewave.settings import PlaneWaveSettings
from hts_z2.schemas.campaign import CampaignCounts
from hts_z2.store.uri import mask
from hts_z2.structures.sources import SourceSpec

ENGINES = ("fireworks", "jobflow-remote", "local")


class SubmitError(RuntimeError):
    """The campaign cannot be submitted (engine missing, LaunchPad unreachable, ...)."""


@dataclass
class Campaign:
    """A campaign as read from YAML (see ``workflows/campaign.example.yaml``): the typed
    spec plus how to submit it."""

    name: str
    spec: CampaignSpec
    engine: str = "fireworks"
    launchpad: str | None = None
    jobflow_remote: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> SourceSpec:
        return self.spec.source

    @property
    def maker(self) -> ScreeningFlowMaker:
        """The Flow maker of this campaign."""
        return ScreeningFlowMaker(name=f"hts-z2 screening {self.name}", spec=self.spec)


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign YAML file."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = set(data) - {
        "name", "source", "db", "model", "chunk_size", "filter", "settings",
        "chunk_manager_config", "engine", "launchpad", "jobflow_remote", "confirmation",
        "confirm_manager_config",
    }
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    name = data.get("name") or Path(path).stem
    spec = CampaignSpec(
        source=SourceSpec(**(data.get("source") or {"kind": "demo"})),
        db=data.get("db"),
        model=data.get("model"),
        campaign=name,
        chunk_size=int(data.get("chunk_size", 16)),
        candidate_filter=data.get("filter") or {},
        settings=data.get("settings") or {},
        chunk_manager_config=dict(data.get("chunk_manager_config") or {}),
        confirmation=confirmation_policy(data.get("confirmation")),
        confirm_manager_config=dict(data.get("confirm_manager_config") or {}),
    )
    engine = data.get("engine", "fireworks")
    if engine not in ENGINES:
        raise ValueError(f"{path}: engine must be one of {', '.join(ENGINES)}")
    return Campaign(
        name=name,
        spec=spec,
        engine=engine,
        launchpad=data.get("launchpad"),
        jobflow_remote=dict(data.get("jobflow_remote") or {}),
    )


def confirmation_policy(spec: dict | str | None) -> ConfirmationPolicy:
    """The confirmation policy of a campaign YAML: a mode (``none``, ``candidates``,
    ``all``) or a mapping with ``mode``, ``max_structures``, ``max_cpu_hours``,
    ``small_gap``, ``methods`` and ``settings`` (plane-wave settings); default
    ``candidates``."""
    if spec is None:
        return ConfirmationPolicy()
    if isinstance(spec, str):
        return ConfirmationPolicy(mode=spec)
    spec = dict(spec)
    settings = PlaneWaveSettings(**(spec.pop("settings", None) or {}))
    return ConfirmationPolicy(settings=settings, **spec)


def describe_campaign(campaign: Campaign, engine: str | None = None) -> str:
    """What ``submit`` would submit, in words: nothing is contacted or submitted."""
    from dataclasses import asdict

    m = campaign.spec
    policy = m.confirmation
    source = ", ".join(f"{k}={v}" for k, v in asdict(campaign.source).items()
                       if v not in (None, [], {}))
    filt = asdict(m.candidate_filter)
    filt.pop("magnetic_elements")
    lines = [
        f"campaign {campaign.name!r} -> engine {engine or campaign.engine}",
        f"  source: {source}",
        f"  result store: {mask(m.db) if m.db else '$HTS_Z2_DB of each worker'}",
        f"  model: {m.model or 'the shipped model'}",
        f"  filter: {filt}",
        f"  settings: {m.settings.model_dump()}",
        "  jobs:",
        f"    1. 'plan {m.campaign or campaign.source.kind}': reads the source, stores the "
        "rejected structures, and adds",
        f"    2. one 'screen chunk <i>' job per {m.chunk_size} candidates "
        f"(manager_config {m.chunk_manager_config or 'default worker'})",
    ]
    if policy is not None and policy.mode != "none":
        budget = ", ".join(x for x in (
            f"at most {policy.max_structures} new runs" if policy.max_structures is not None
            else "", f"at most {policy.max_cpu_hours} CPU-hours"
            if policy.max_cpu_hours is not None else "") if x) or "no budget"
        lines += [
            f"    3. 'plan confirmations': {policy.mode} ({budget}; cache first), then one "
            f"'confirm <id>' plane-wave job each (manager_config "
            f"{m.confirm_manager_config or 'default worker'}; engine {policy.engine})",
        ]
    lines.append("    last: 'campaign summary' (counts)")
    return "\n".join(lines)


def launchpad_from(file: str | Path | None = None, uri: str | None = None) -> Any:
    """A FireWorks LaunchPad from a YAML file, a ``mongodb://`` URI or FireWorks' defaults."""
    from fireworks import LaunchPad

    from hts_z2.store.uri import database_from_uri

    if uri:
        return LaunchPad(host=uri, uri_mode=True, name=database_from_uri(uri, "fireworks"))
    if file:
        return LaunchPad.from_file(str(file))
    return LaunchPad.auto_load()


def submit_fireworks(campaign: Campaign, launchpad: Any) -> list[int]:
    """Add the campaign to a LaunchPad; returns the new Firework ids."""
    from jobflow.managers.fireworks import flow_to_workflow

    wf = flow_to_workflow(campaign.maker.make(campaign.source))
    try:
        mapping = launchpad.add_wf(wf)
    except Exception as err:
        raise SubmitError(f"cannot add the workflow to the LaunchPad: {mask(str(err))}") from err
    return sorted(mapping.values())


def submit_jobflow_remote(campaign: Campaign) -> str:
    """Submit with jobflow-remote (``jobflow_remote`` options: project, worker, ...)."""
    try:
        from jobflow_remote import submit_flow
    except ImportError as err:
        raise SubmitError(
            "engine jobflow-remote needs the remote extra: pip install 'hts-z2[remote]'"
        ) from err
    options = dict(campaign.jobflow_remote)
    try:
        ids = submit_flow(campaign.maker.make(campaign.source), **options)
    except Exception as err:  # unknown project or worker, unreachable queue database, ...
        raise SubmitError(
            f"jobflow-remote refused the campaign ({options or 'default project'}): "
            f"{mask(str(err))}"
        ) from err
    where = ", ".join(f"{k} {v}" for k, v in options.items()) or "default project"
    return f"submitted {campaign.name} to jobflow-remote ({where}): jobs {', '.join(map(str, ids))}"


def submit_campaign(
    campaign: Campaign, engine: str | None = None, launchpad_file: str | Path | None = None
) -> str:
    """Submit (or run locally) a campaign; returns a one-line summary."""
    engine = engine or campaign.engine
    if engine == "local":
        from jobflow import run_locally

        flow = campaign.maker.make(campaign.source)
        responses = run_locally(flow, create_folders=False, ensure_success=True)
        outputs = [r.output for by_index in responses.values() for r in by_index.values()]
        totals = [o for o in outputs if isinstance(o, CampaignCounts)]
        best = max(totals, key=lambda c: c.read, default=None)
        return f"{campaign.name}: {best}"
    if engine == "jobflow-remote":
        return submit_jobflow_remote(campaign)
    if engine != "fireworks":
        raise SubmitError(f"unknown engine {engine!r}")
    try:
        import fireworks  # noqa: F401
    except ImportError as err:
        raise SubmitError("engine fireworks needs the workflows extra: "
                          "pip install 'hts-z2[workflows]'") from err
    uri = os.environ.get("HTS_Z2_LAUNCHPAD")
    lp = launchpad_from(launchpad_file or campaign.launchpad, uri)
    ids = submit_fireworks(campaign, lp)
    return f"added {campaign.name} to the LaunchPad: fireworks {ids[0]}..{ids[-1]}"
