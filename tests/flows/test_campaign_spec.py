"""The campaign spec: one typed document that the CLI, the YAML loader and the jobs share."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from hts_z2.flows.campaign import CampaignSpec, ScreeningFlowMaker
from hts_z2.flows.confirmation import ConfirmationPolicy
from hts_z2.flows.submit import load_campaign
from hts_z2.reference.planewave.settings import PlaneWaveSettings
from hts_z2.schemas.campaign import ScreeningSettings
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_the_job_document_round_trips_through_json():
    spec = CampaignSpec(
        source=SourceSpec(kind="files", paths=["a.cif"], limit=3), db="/tmp/x", model="m",
        campaign="c", chunk_size=4, candidate_filter=CandidateFilter(heavy_z=50, max_sites=10),
        settings=ScreeningSettings(kspacing=0.3, z2_max_gap=0.3),
        confirmation=ConfirmationPolicy(mode="all", max_structures=2,
                                        settings=PlaneWaveSettings(ecut=300.0)),
        chunk_manager_config={"_fworker": "gpu"})
    wire = json.loads(json.dumps(spec.to_job()))  # what a job receives from the LaunchPad
    back = CampaignSpec.model_validate(wire)
    assert back == spec
    assert isinstance(back.candidate_filter.magnetic_elements, frozenset)
    assert back.confirmation.settings.ecut == 300.0 and back.settings.z2_max_gap == 0.3
    assert spec.confirming and not CampaignSpec().confirming
    assert not CampaignSpec(confirmation={"mode": "none"}).confirming


def test_bad_specs_are_refused_with_the_reason():
    with pytest.raises(ValidationError, match="kspacing must be a positive number"):
        CampaignSpec(settings={"kspacing": -1})
    with pytest.raises(ValidationError, match="confirmation mode must be one of"):
        CampaignSpec(confirmation={"mode": "sometimes"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        CampaignSpec(settings={"kspacnig": 0.2})
    with pytest.raises(ValidationError, match="chunk_size"):
        CampaignSpec(chunk_size=0)
    with pytest.raises(ValidationError, match="z2_method"):
        ScreeningSettings(z2_method="parity")


def test_the_yaml_campaign_is_a_spec_and_the_maker_sends_it_whole():
    campaign = load_campaign(WORKFLOWS / "campaign.example.yaml")
    spec = campaign.spec
    assert spec.source.kind == "gnome" and spec.chunk_manager_config
    flow = campaign.maker.make()
    [planner] = flow.jobs
    assert planner.function_args == (spec.to_job(),)
    other = ScreeningFlowMaker(spec=spec).make(SourceSpec(kind="demo"))
    assert other.jobs[0].function_args[0]["source"]["kind"] == "demo"


def test_every_spec_field_is_described():
    missing = [n for n, f in CampaignSpec.model_fields.items() if not f.description]
    assert not missing
