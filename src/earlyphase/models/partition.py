"""Block partition used by gradual unfreezing (Algorithm 1 of the primary paper).

Every model in :mod:`earlyphase.models` declares

* ``block_names``: a tuple with one entry per block, ordered bottom -> top (block 0 is the
  one nearest the input); each entry is a tuple of submodule names (attributes of the model).
* ``head_names``: the submodule names of the classifier head ``C``.

Every parameter of the model belongs to exactly one block or to the head;
:func:`check_partition` verifies it and the model tests call it for every architecture.
"""

from __future__ import annotations

from torch import nn

__all__ = [
    "block_parameters",
    "head_parameters",
    "block_modules",
    "head_modules",
    "check_partition",
]


def _params_of(model: nn.Module, names: tuple[str, ...]) -> list[tuple[str, nn.Parameter]]:
    out: list[tuple[str, nn.Parameter]] = []
    for name in names:
        module = model.get_submodule(name)
        for pname, p in module.named_parameters():
            out.append((f"{name}.{pname}", p))
    return out


def block_modules(model: nn.Module) -> list[list[nn.Module]]:
    """Submodules of each block, block 0 (bottom) first."""
    return [[model.get_submodule(n) for n in names] for names in model.block_names]


def head_modules(model: nn.Module) -> list[nn.Module]:
    return [model.get_submodule(n) for n in model.head_names]


def block_parameters(model: nn.Module) -> list[list[tuple[str, nn.Parameter]]]:
    """``(qualified name, parameter)`` pairs per block, block 0 (bottom) first."""
    return [_params_of(model, names) for names in model.block_names]


def head_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """``(qualified name, parameter)`` pairs of the classifier head."""
    return _params_of(model, model.head_names)


def check_partition(model: nn.Module) -> None:
    """Raise ``ValueError`` unless every parameter is in exactly one block or the head."""
    seen: dict[int, str] = {}
    groups = [*block_parameters(model), head_parameters(model)]
    for group in groups:
        for name, p in group:
            if id(p) in seen:
                raise ValueError(f"parameter {name} is in two groups (also {seen[id(p)]})")
            seen[id(p)] = name
    missing = [n for n, p in model.named_parameters() if id(p) not in seen]
    if missing:
        raise ValueError(f"parameters outside every block and the head: {missing}")
