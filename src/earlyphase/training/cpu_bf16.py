"""Whether this CPU computes bf16 natively: the bf16 fast path is only fast where it does.

oneDNN runs bf16 convolutions and matrix products with native instructions on CPUs with
AVX-512 BF16 or AMX; elsewhere (AVX2, e.g. many AMD EPYC parts before Zen 4) it converts
and computes in a generic kernel, with the same bf16 rounding of the inputs but many times
slower than fp32. PyTorch's own probes (``torch.cpu._is_avx512_bf16_supported`` and
``_is_amx_tile_supported``, private but present since 2.1) are asked first; the kernel's
``/proc/cpuinfo`` flags stand in where they are missing.
"""

from __future__ import annotations

import torch

# cpuinfo flags that mean native bf16 arithmetic (AVX-512 BF16, AMX with its bf16 unit)
_NATIVE_FLAGS = ("avx512_bf16", "amx_bf16")


def _torch_probes() -> dict[str, bool] | None:
    probes = {"avx512_bf16": "_is_avx512_bf16_supported", "amx": "_is_amx_tile_supported"}
    found = {name: getattr(torch.cpu, attr, None) for name, attr in probes.items()}
    if any(fn is None for fn in found.values()):
        return None
    return {name: bool(fn()) for name, fn in found.items()}


def _cpuinfo_flags(path: str = "/proc/cpuinfo") -> set[str]:
    try:
        with open(path) as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def bf16_support() -> dict:
    """``{"native": bool, "instructions": [...], "capability": ...}`` of this CPU.

    ``instructions`` names the native bf16 instruction sets found (empty when none);
    ``capability`` is the vector ISA PyTorch dispatches its own CPU kernels to (AVX2, AVX512).
    """
    probes = _torch_probes()
    if probes is not None:
        instructions = [name for name, present in probes.items() if present]
    else:
        instructions = sorted(_cpuinfo_flags() & set(_NATIVE_FLAGS))
    return {"native": bool(instructions), "instructions": instructions,
            "capability": torch.backends.cpu.get_cpu_capability()}


def native_bf16() -> bool:
    return bf16_support()["native"]
