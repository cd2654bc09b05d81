import json

import pytest
import torch
from samples import link_dataset
from test_losses import item_of

from hts_z2.hamiltonian.overlap import OverlapBasis, OverlapCalculator
from hts_z2.model.checkpoint import OVERLAP_BASIS, load_checkpoint, load_overlap
from hts_z2.model.predictor import DEFAULT_MODEL, load_model, models_dir
from hts_z2.schemas.training import Calibration
from hts_z2.training.calibrate import (
    CutoffScore,
    labels_by_cutoff,
    pick_cutoff,
    score_cutoffs,
    score_labels,
)
from hts_z2.training.data import reference_values
from hts_z2.training.evaluate import evaluate
from hts_z2.training.exact_overlap import exact_overlap_values
from hts_z2.training.run import (
    final_network,
    load_items,
    prepare,
    register,
    run_calibration,
    run_evaluation,
    run_stage,
)
from hts_z2.training.trainer import TrainSettings


def score(cutoff, mae, solved, total, reference=None, agree=None):
    """A :class:`CutoffScore` (the calibration document) from its values in order."""
    return CutoffScore(cutoff=cutoff, band_mae_meV=mae, n_solved=solved, n_total=total,
                       reference_band_mae_meV=reference, labels_agree=agree)  # fmt: skip


def test_pick_prefers_solving_every_structure_then_the_lowest_error():
    scores = [
        score(0.0, 5.0, 3, 4),  # best MAE but one structure unsolved
        score(1e-4, 40.0, 4, 4),
        score(1e-3, 20.0, 4, 4),
        score(1e-2, 90.0, 4, 4),
    ]
    assert pick_cutoff(scores) == 1e-3
    assert pick_cutoff([score(0.0, 5.0, 4, 4), score(1e-3, 20.0, 4, 4)]) == 0.0
    with pytest.raises(ValueError, match="no overlap cutoff"):
        pick_cutoff([score(0.0, None, 0, 4)])


def test_pick_by_labels_ranks_agreement_before_band_error():
    scores = [
        score(0.0, 5.0, 3, 4, agree=3),  # unsolved structure: never wins
        score(1e-3, 20.0, 4, 4, agree=1),
        score(1e-2, 90.0, 4, 4, agree=3),
        score(1e-1, 60.0, 4, 4, agree=3),
    ]
    assert pick_cutoff(scores) == 1e-3  # band MAE alone
    assert pick_cutoff(scores, "labels") == 1e-1  # most labels, then the lower band MAE
    tied = [score(1e-3, 20.0, 4, 4, agree=2), score(1e-2, 20.05, 4, 4, 0, 2)]
    assert pick_cutoff(tied, "labels") == 1e-3  # within TIE_MEV: the smaller cutoff
    with pytest.raises(ValueError, match="label counts"):
        pick_cutoff([score(1e-3, 20.0, 4, 4)], "labels")
    with pytest.raises(ValueError, match="unknown calibration criterion"):
        pick_cutoff(scores, "z2")


def test_score_labels_counts_exact_matches_per_cutoff():
    scores = [score(c, 1.0, 3, 3) for c in (1e-3, 1e-2)]
    predicted = [
        ({1e-3: "metal", 1e-2: "trivial (0;000)"}, "trivial (0;000)"),
        ({1e-3: "STI (1;000)", 1e-2: "STI (1;000)"}, "STI (1;000)"),
        ({1e-3: "undefined: S(k) not positive-definite", 1e-2: "metal"}, "undefined"),
    ]
    got = score_labels(scores, predicted)
    assert [s.labels_agree for s in got] == [1, 2]
    assert [s.band_mae_meV for s in got] == [1.0, 1.0] and scores[0].labels_agree is None


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
    seen = []
    record = run_calibration(work, candidates=(0.0, 1e-3, 1e-2), on_progress=seen.append)
    assert [s.cutoff for s in record.scores] == [0.0, 1e-3, 1e-2]
    assert record.criterion == "labels" and len(seen) == 2 * len(set(seen))
    n_val = record.scores[0].n_total
    assert all(0 <= s.labels_agree <= n_val for s in record.scores)
    assert record.overlap_cutoff in (0.0, 1e-3, 1e-2)
    assert Calibration.model_validate_json((work / "calibration.json").read_text()) == record
    assert json.loads((work / "calibration.json").read_text())["overlap_cutoff"] == (
        record.overlap_cutoff
    )
    assert final_network(work).cfg.overlap_cutoff == record.overlap_cutoff
    # the reference H solved at each cutoff (its known answer at cutoff 0 is tested on
    # Bi2Se3 above; Pb's pruned reference blocks need a cutoff to reproduce its bands)
    truncation = [s.reference_band_mae_meV for s in record.scores]
    assert all(t is not None and t >= 0 for t in truncation)
    metrics = run_evaluation(work, z2=False)
    assert metrics.band_mae_truncation_meV >= 0
    assert all(m.band_mae_truncation_meV is not None for m in metrics.structures)
    target = register(work, "calibrated", tmp_path / "models", fast)
    net, _ = load_checkpoint(target)
    assert net.cfg.overlap_cutoff == record.overlap_cutoff
    assert net.cfg.training.overlap_calibration == record
    card = (target / "card.md").read_text()
    assert "chosen on the" in card and "truncation alone" in card
    assert "labels agreeing" in card and "most screening labels" in card
    error = net.cfg.validated_band_error()
    assert error is not None and f"chosen cutoff: {1e3 * error:.0f} meV" in card
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


def test_labels_by_cutoff_match_the_evaluation_labels(tmp_path):
    """The calibration's labels are those the test evaluation (and inference) computes at
    the model's cutoff: one code path, not a second estimate."""
    work = tmp_path / "work"
    prepare(link_dataset(tmp_path), work, {"channels": 4, "n_layers": 1, "r_cut": 7.0,
                                           "r_mp": 4.0, "n_radial": 4}, seed=1)  # fmt: skip
    run_stage(work, 1, TrainSettings(max_epochs_stage1=1, batch_size=2))
    run_calibration(work, candidates=(1e-3, 1e-2), criterion="band")
    net = final_network(work)
    _, items, record = load_items(work, ("test",))
    assert items["test"], "the split of the small dataset has no test structure"
    overlap = load_overlap(work, net.cfg)
    metrics = evaluate(net, items["test"], record.labels, True, None, overlap)
    for it, m in zip(items["test"], metrics.structures, strict=True):
        labels = labels_by_cutoff(net, it, (net.cfg.overlap_cutoff, 0.1), overlap)
        assert m.label_pred is not None
        assert labels[net.cfg.overlap_cutoff] == m.label_pred
        assert set(labels) == {net.cfg.overlap_cutoff, 0.1}
