import json
from dataclasses import replace

import pytest

from hts_z2.model.checkpoint import (
    CONFIG,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    weights_sha256,
)


def test_identity_covers_the_inference_configuration(tmp_path, net):
    """The weights' sha256 changes with any field that changes predictions (here the
    overlap cutoff), not with the descriptive training record; a config.json edited
    behind the weights' back is refused."""
    sha = save_checkpoint(net, tmp_path / "a")
    assert weights_sha256(net) == sha
    assert load_checkpoint(tmp_path / "a")[1] == sha

    path = tmp_path / "a" / CONFIG
    record = json.loads(path.read_text())
    record["training"] = {"note": "re-measured card"}
    path.write_text(json.dumps(record))
    assert load_checkpoint(tmp_path / "a")[1] == sha

    record["overlap_cutoff"] = 0.1
    path.write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=r"\['overlap_cutoff'\].*save the network again"):
        load_checkpoint(tmp_path / "a")

    net.cfg = replace(net.cfg, overlap_cutoff=0.1)
    sha2 = save_checkpoint(net, tmp_path / "b")
    assert sha2 != sha and weights_sha256(net) == sha2
    assert load_checkpoint(tmp_path / "b")[0].cfg.overlap_cutoff == 0.1


def test_validated_band_error_is_the_calibration_score_at_the_model_cutoff(net):
    from hts_z2.model.predictor import load_model

    assert replace(net.cfg, training={}).validated_band_error() is None
    scores = [{"cutoff": 1e-3, "band_mae_meV": 900.0}, {"cutoff": 1e-2, "band_mae_meV": 250.0}]
    cfg = replace(net.cfg, overlap_cutoff=1e-2,
                  training={"overlap_calibration": {"scores": scores}})  # fmt: skip
    assert cfg.validated_band_error() == pytest.approx(0.25)
    assert replace(cfg, overlap_cutoff=0.1).validated_band_error() is None
    shipped = load_model()
    cal = shipped.config.training.overlap_calibration
    at_cutoff = [s for s in cal.scores if s.cutoff == cal.overlap_cutoff]
    assert shipped.band_error == pytest.approx(at_cutoff[0].band_mae_meV / 1e3)
    assert 0.05 < shipped.band_error < 5.0


def test_solve_shells_round_trip_identity_and_errors(tmp_path, net):
    """A solved sub-basis is part of the identity; models without one keep theirs (the
    empty map is not written), and bad maps are refused."""
    from hts_z2.model.config import ModelConfig

    assert "solve_shells" not in net.cfg.to_dict()
    assert net.cfg.kept_shells(34) == (0, 1, 2, 3, 4)
    cfg = replace(net.cfg, solve_shells={34: (0, 1, 4)})
    assert cfg.solved_shells(34) == (0, 1, 2) and cfg.kept_shells(83) == (0, 1, 2, 3, 4)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.inference_key() != net.cfg.inference_key()
    sha = save_checkpoint(net, tmp_path / "a")
    net.cfg = cfg
    assert save_checkpoint(net, tmp_path / "b") != sha
    assert load_checkpoint(tmp_path / "b")[0].cfg.solve_shells == {34: (0, 1, 4)}
    with pytest.raises(ValueError, match="outside the basis"):
        replace(cfg, solve_shells={8: (0,)})
    with pytest.raises(ValueError, match="indices into its 5 shells"):
        replace(cfg, solve_shells={34: (0, 5)})
    with pytest.raises(ValueError, match="indices into its 5 shells"):
        replace(cfg, solve_shells={34: ()})


def test_altered_or_truncated_weights_are_refused(tmp_path, monkeypatch):
    """The shipped model with 4 KB of its weights overwritten (such a change turned PbTe
    from trivial to metal, loaded silently) and the same file truncated."""
    import shutil

    from hts_z2.model.checkpoint import ACCEPT_MODIFIED, DIGEST, WEIGHTS, file_sha256
    from hts_z2.model.predictor import load_model, models_dir

    shipped = models_dir() / "hts-z2-soc-v5.1"
    assert (shipped / DIGEST).read_text().split()[0] == file_sha256(shipped / WEIGHTS)
    assert load_model("hts-z2-soc-v5.1").sha256 == file_sha256(shipped / WEIGHTS)

    copy = tmp_path / "v5.1-copy"
    shutil.copytree(shipped, copy)
    data = bytearray((copy / WEIGHTS).read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = b"\x3f" * 4096  # floats near 0.75
    (copy / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="altered or damaged"):
        load_model(str(copy))
    monkeypatch.setenv(ACCEPT_MODIFIED, "1")  # told otherwise: its own, new identity
    assert load_model(str(copy)).sha256 == file_sha256(copy / WEIGHTS)
    monkeypatch.delenv(ACCEPT_MODIFIED)

    (copy / WEIGHTS).write_bytes(bytes(data[: len(data) // 3]))
    (copy / DIGEST).unlink()  # no record to compare with: the file itself is unreadable
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(str(copy))


def test_saved_checkpoints_record_their_digest(tmp_path, net):
    from hts_z2.model.checkpoint import DIGEST

    sha = save_checkpoint(net, tmp_path / "a")
    assert (tmp_path / "a" / DIGEST).read_text() == f"{sha}  model.safetensors\n"
