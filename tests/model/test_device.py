import pytest
import torch

from hts_z2.model.device import torch_device


def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def one_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_cpu_and_auto_without_cuda(monkeypatch):
    no_cuda(monkeypatch)
    assert torch_device("cpu") == torch.device("cpu")
    assert torch_device("auto") == torch.device("cpu")


def test_auto_and_indices_with_one_cuda_device(monkeypatch):
    one_cuda(monkeypatch)
    assert torch_device("auto") == torch.device("cuda")
    assert torch_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match="only 1 CUDA device"):
        torch_device("cuda:1")


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    no_cuda(monkeypatch)
    with pytest.raises(ValueError, match=r"no usable CUDA device.*CUDA build of torch"):
        torch_device("cuda")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "meta", ""])
def test_unknown_or_unsupported_devices(name):
    with pytest.raises(ValueError, match="torch device"):
        torch_device(name)
