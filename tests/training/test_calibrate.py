import json

import pytest
import torch
from samples import link_dataset
from test_losses import item_of

from hts_z2.hamiltonian.overlap import OverlapBasis, OverlapCalculator
from hts_z2.model.checkpoint import OVERLAP_BASIS, load_checkpoint
from hts_z2.model.predictor import DEFAULT_MODEL, load_model, models_dir
from hts_z2.training.calibrate import CutoffScore, pick_cutoff, score_cutoffs
from hts_z2.training.data import reference_values
from hts_z2.training.exact_overlap import exact_overlap_values
from hts_z2.training.run import (
    final_network,
    prepare,
    register,
    run_calibration,
    run_evaluation,
    run_stage,
)
from hts_z2.training.trainer import TrainSettings


def test_pick_prefers_solving_every_structure_then_the_lowest_error():
    scores = [
        CutoffScore(0.0, 5.0, 3, 4),  # best MAE but one structure unsolved
        CutoffScore(1e-4, 40.0, 4, 4),
        CutoffScore(1e-3, 20.0, 4, 4),
        CutoffScore(1e-2, 90.0, 4, 4),
    ]
    assert pick_cutoff(scores) == 1e-3
    assert pick_cutoff([CutoffScore(0.0, 5.0, 4, 4), CutoffScore(1e-3, 20.0, 4, 4)]) == 0.0
    with pytest.raises(ValueError, match="no overlap cutoff"):
        pick_cutoff([CutoffScore(0.0, None, 0, 4)])


def test_reference_hamiltonian_is_exact_without_cutoff_and_truncated_with_a_large_one():
    """Known answer: the reference H and S give the reference bands (cutoff 0 wins); a
    cutoff far above the smallest overlap eigenvalues moves them by >> 1 meV."""
    it, _ = item_of("Bi2Se3-R-3m")
    scores = score_cutoffs([(reference_values(it), it)], (0.0, 1e-4, 0.1))
    by = {s.cutoff: s for s in scores}
    assert by[0.0].band_mae_meV < 2.0 and by[0.0].n_solved == 1
    assert by[1e-4].band_mae_meV < 5.0
    assert by[0.1].band_mae_meV > 10 * by[0.0].band_mae_meV
    assert pick_cutoff(scores) == 0.0


def test_calibration_sets_the_cutoff_of_the_evaluated_and_registered_model(tmp_path):
    work = tmp_path / "work"
    prepare(
        link_dataset(tmp_path),
        work,
        {"channels": 4, "n_layers": 1, "r_cut": 7.0, "r_mp": 4.0, "n_radial": 4},
        seed=1,
    )
    fast = TrainSettings(max_epochs_stage1=1, max_epochs_stage2=1, batch_size=2)
    run_stage(work, 1, fast)
    record = run_calibration(work, candidates=(0.0, 1e-3, 1e-2))
    assert [s["cutoff"] for s in record["scores"]] == [0.0, 1e-3, 1e-2]
    assert record["overlap_cutoff"] in (0.0, 1e-3, 1e-2)
    assert json.loads((work / "calibration.json").read_text()) == record
    assert final_network(work).cfg.overlap_cutoff == record["overlap_cutoff"]
    # the reference H solved at each cutoff (its known answer at cutoff 0 is tested on
    # Bi2Se3 above; Pb's pruned reference blocks need a cutoff to reproduce its bands)
    truncation = [s["reference_band_mae_meV"] for s in record["scores"]]
    assert all(t is not None and t >= 0 for t in truncation)
    metrics = run_evaluation(work, z2=False)
    assert metrics.band_mae_truncation_meV >= 0
    assert all(m.band_mae_truncation_meV is not None for m in metrics.structures)
    target = register(work, "calibrated", tmp_path / "models", fast)
    net, _ = load_checkpoint(target)
    assert net.cfg.overlap_cutoff == record["overlap_cutoff"]
    assert net.cfg.training["overlap_calibration"] == record
    card = (target / "card.md").read_text()
    assert "chosen on the" in card and "truncation alone" in card
    assert torch.isfinite(net.scales).all()
    # the default overlap comes from the basis: its tables travel with the model
    assert net.cfg.overlap == "basis"
    assert load_model(target).overlap is not None


def test_exact_overlap_with_the_reference_hamiltonian_gives_the_reference_bands():
    """Known answer: reference H with the S computed from the basis tables reproduces the
    stored GPAW bands (the tables' S equals GPAW's to ~1e-6)."""
    it, _ = item_of("Bi2Se3-R-3m")
    calc = OverlapCalculator(OverlapBasis.load(models_dir() / DEFAULT_MODEL / OVERLAP_BASIS))
    scores = score_cutoffs([(reference_values(it), it)], (0.0,), overlap=calc)
    assert scores[0].n_solved == 1 and scores[0].band_mae_meV < 2.0
    s_exact = exact_overlap_values(calc, it)
    assert (s_exact - torch.cat([it.on_s, it.edge_s]).double()).abs().max() < 1e-5
