"""``python -m benchmarks.gpu.machine PATH [--require-cuda]``: what torch sees, as JSON.

The GPU run's first step: it records torch's version, its CUDA build and each device, and with
``--require-cuda`` exits 2 when torch sees no CUDA device (then nothing else is worth running).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any


def describe() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    devices = []
    for i in range(torch.cuda.device_count() if cuda else 0):
        p = torch.cuda.get_device_properties(i)
        devices.append(
            {
                "name": p.name,
                "capability": f"{p.major}.{p.minor}",
                "memory_gib": round(p.total_memory / 2**30, 1),
                "multiprocessors": p.multi_processor_count,
            }
        )
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cuda_available": cuda,
        "device_count": len(devices),
        "devices": devices,
        "nccl": torch.distributed.is_available() and torch.distributed.is_nccl_available(),
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print("usage: python -m benchmarks.gpu.machine PATH [--require-cuda]", file=sys.stderr)
        return 2
    info = describe()
    path = Path(argv[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    names = ", ".join(d["name"] for d in info["devices"]) or "no CUDA device"
    print(f"torch {info['torch']} (CUDA build {info['cuda_build']}): {names}")
    if "--require-cuda" in argv and not info["cuda_available"]:
        print("torch sees no CUDA device: the GPU run has nothing to run", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
