"""Which torch device inference and training run on."""

from __future__ import annotations

import torch

CUDA_HELP = (
    "this torch has no usable CUDA device (a CPU build, or no GPU visible); use device 'cpu', "
    "or install a CUDA build of torch (README, 'PyTorch: CPU or CUDA')"
)


def torch_device(name: str = "cpu") -> torch.device:
    """The device called ``name``: ``cpu``, ``cuda``, ``cuda:<index>`` or ``auto`` (the
    first CUDA device when there is one, else the CPU).

    Raises
    ------
    ValueError : an unknown name, or a CUDA device this process cannot use.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported torch device {name!r}; use cpu, cuda, cuda:<index> or auto")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: {CUDA_HELP}")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    return device
