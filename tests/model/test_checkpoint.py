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
