"""First step of bench/gpu_check.sh: can this machine run the check at all?

``python3 -m earlyphase.bench.preflight --out preflight.json [--need-cuda]`` reports the
interpreter, whether each package the steps import is there (jsonschema is optional: only
params validation of the workflow uses it, and the cost steps run without it), the torch
and CUDA versions, ``torch.cuda.is_available()`` and the device's name. Exit status 1 when a
required package is missing, or with ``--need-cuda`` when no GPU is usable: the script then
skips every step instead of failing each on its own after its start-up.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import platform
import sys

from earlyphase.bench.report import emit

REQUIRED = ("torch", "torchvision", "numpy", "pandas", "pyarrow", "yaml", "tqdm", "earlyphase")
OPTIONAL = ("jsonschema",)


def check(need_cuda: bool) -> dict:
    result = {"python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
              "date": _dt.date.today().isoformat(), "missing": [], "missing_optional": [],
              "cuda_available": None, "device_name": None, "torch": None, "cuda": None}
    for name in REQUIRED + OPTIONAL:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - any import failure is a missing package here
            (result["missing"] if name in REQUIRED else result["missing_optional"]).append(f"{name} ({err})")
    if "torch" in sys.modules:
        import torch

        result.update(torch=torch.__version__, cuda=torch.version.cuda, cuda_available=torch.cuda.is_available())
        if result["cuda_available"]:
            result["device_name"] = torch.cuda.get_device_name(0)
            result["device_count"] = torch.cuda.device_count()
    problems = list(result["missing"])
    if need_cuda and not result["cuda_available"]:
        problems.append("torch.cuda.is_available() is False")
    result["ok"] = not problems
    result["problems"] = problems
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python3 -m earlyphase.bench.preflight",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--need-cuda", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    result = check(args.need_cuda)
    emit(result, args.out)
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
