"""End to end with a real (tiny, untrained) HamiltonianNet through the screening code path.

The basis and valences come from real reference samples; the network is saved with
``save_checkpoint`` and loaded by path, exactly as a shipped model would be. Random weights
may give an overlap that is not positive-definite: that must end as a recorded ``failed``
document with a reason, never as a crash. A second copy with the overlap pinned to the
identity reaches the gap (and, for insulators, Z2) stages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hts_z2.flows.screening import ScreeningSettings, resolve_model, run_campaign
from hts_z2.model.checkpoint import file_sha256, save_checkpoint
from hts_z2.model.config import ModelConfig
from hts_z2.model.network import HamiltonianNet
from hts_z2.model.predictor import HamiltonianModel
from hts_z2.reference.sample import load_sample
from hts_z2.store import open_store
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec
from hts_z2.training.dataset import solve_valence

SAMPLES = Path(__file__).resolve().parents[2] / "hts_z2" / "data" / "dataset" / "samples"
# Bi and Pb pin their own valence; PbTe then pins Te and Bi2Se3 pins Se.
SAMPLE_IDS = ("Bi-R-3m", "Pb-Fm-3m", "PbTe-Fm-3m", "Bi2Se3-R-3m")
IDS = ["PbTe-Fm-3m", "Bi-R-3m", "Pb-Fm-3m"]
# a coarse gap grid and few Z2 refinements keep the test fast; physics is not checked here
SETTINGS = ScreeningSettings(kspacing=0.4, z2_n_max=16, batch_size=2)


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    samples = []
    for sid in SAMPLE_IDS:
        path = SAMPLES / f"{sid}.h5"
        assert path.is_file(), f"test data missing: {path}"
        samples.append(load_sample(path))
    basis = {int(z): tuple(sh) for s in samples for z, sh in zip(s.numbers, s.shells, strict=True)}
    return ModelConfig(
        basis=basis, valence=solve_valence(samples), channels=4, n_layers=1, r_cut=6.0, r_mp=4.0
    )


def saved_model(cfg: ModelConfig, directory: Path, pin_overlap: bool) -> tuple[str, str]:
    """Save a seeded random network; returns (directory, sha256 from save_checkpoint)."""
    torch.manual_seed(0)
    net = HamiltonianNet(cfg)
    if pin_overlap:
        with torch.no_grad():
            net.onsite_s_ref[:] = torch.eye(net.layout.n_pad)
            net.onsite_s.weight.zero_()
            net.pair_s.weight.zero_()
    return str(directory), save_checkpoint(net, directory)


def screen(model_dir: str, db: Path) -> tuple:
    """One campaign over IDS with the model loaded from its directory (as the CLI does)."""
    model = resolve_model(model_dir)
    assert isinstance(model, HamiltonianModel)
    with open_store(db) as store:
        counts = run_campaign(
            SourceSpec(kind="demo", paths=IDS), model, store, CandidateFilter(), SETTINGS,
            campaign="real-model", chunk_size=2,
        )  # fmt: skip
        docs = list(store.find({}, projection={"structure": 0}))
        duplicates = store.duplicates()
    return model, counts, docs, duplicates


@pytest.mark.parametrize("pin_overlap", [False, True], ids=["raw", "pinned-overlap"])
def test_real_model_screening(config: ModelConfig, tmp_path: Path, pin_overlap: bool) -> None:
    model_dir, sha = saved_model(config, tmp_path / "model", pin_overlap)
    assert sha == file_sha256(Path(model_dir) / "model.safetensors")
    db = tmp_path / "db"
    model, counts, docs, duplicates = screen(model_dir, db)
    assert model.sha256 == sha
    assert counts.read == len(IDS) == counts.done + counts.skipped + counts.failed
    assert sorted(d["material_id"] for d in docs) == sorted(IDS) and duplicates == 0
    for doc in docs:
        assert doc["model"]["sha256"] == sha and doc["campaign"] == "real-model"
        assert doc["status"] in ("done", "failed", "skipped")
        if doc["status"] == "failed":
            assert doc["reason"], doc
        if doc["status"] == "done":
            assert doc["gap"] is not None and doc["label"], doc
            assert "inference" in doc["timings"] and "gap" in doc["timings"]
            if doc["label"] not in ("metal", "insulator"):
                assert doc["z2"] is not None
                if not doc["z2"]["converged"]:
                    assert doc["reason"], doc
    if pin_overlap:  # S = 1: every candidate reaches the gap stage
        assert all(d["status"] == "done" for d in docs), docs

    _, again, docs_again, duplicates = screen(model_dir, db)
    assert duplicates == 0 and len(docs_again) == len(IDS)
    assert again.existing == counts.done and again.read == len(IDS)
    assert {d["material_id"]: d["status"] for d in docs_again} == {
        d["material_id"]: d["status"] for d in docs
    }
