"""What a probe of the suite declares: the contract every entry of :mod:`.registry` fulfils.

A probe is one subclass of :class:`Probe` with

* ``name``: the key in ``probe.probes`` (params.yaml) and in the schema's enum;
* ``defaults``: its own settings (keys of the merged probe config) and their defaults;
  settings several probes read (``rho``, ``batch_size``, ...) are
  :data:`earlyphase.probes.registry.SHARED_DEFAULTS`;
* ``columns``: the record keys it writes (default: its name alone); ``column`` is the one
  figures and Algorithm 2 read (default: the first; tr(F) is read normalized by the number of
  covered parameters, as arXiv v1 plots it);
* ``label`` (matplotlib mathtext, for figures) and ``text_label`` (plain text, for table
  rows such as "GU-S_worst");
* ``default_on``: whether a config without ``probes`` records it;
* ``scaling`` (sharpness probes): the perturbation scaling c it uses, a key of
  :data:`earlyphase.probes.registry.SCALINGS`; a probe that measures the same quantity with
  another c subclasses it and shares its ``quantity`` (default: the name of the first class
  in the line that names one);
* :meth:`step_equivalents`: the cost of one call in training steps of batch 128 (a forward
  pass is 1/3 of a step, a forward+backward 1, a Hessian-vector product 2), which
  :mod:`earlyphase.operations.cost` uses without a GPU measurement;
* :meth:`measure`: one record's values, computed with the generator the suite hands it.

A probe instance lives as long as its suite; :meth:`state_dict` carries what must survive a
resume (the Hessian probe's warm-start vector).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

FORWARD = 1.0 / 3.0
"""A forward pass in training steps (a step is forward + backward, about 3 forwards)."""


class Probe:
    name: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    column: ClassVar[str]
    label: ClassVar[str]
    text_label: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    default_on: ClassVar[bool] = True
    scaling: ClassVar[str | None] = None
    quantity: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "quantity" not in cls.__dict__ and "name" in cls.__dict__:
            cls.quantity = cls.quantity or cls.name  # inherited from a probe it re-scales
        if "columns" not in cls.__dict__ and "name" in cls.__dict__:
            cls.columns = (cls.name,)  # one value, recorded under the probe's name
        if "column" not in cls.__dict__ and getattr(cls, "columns", None):
            cls.column = cls.columns[0]

    def __init__(self, settings: dict[str, Any], device: torch.device) -> None:
        self.settings = settings
        self.device = device

    @classmethod
    def step_equivalents(cls, settings: dict[str, Any], points: int) -> float:
        """Cost of one call over ``points`` probe points (``settings``: the merged config)."""
        raise NotImplementedError

    def measure(
        self, model: nn.Module, inputs: Tensor, targets: Tensor, generator: torch.Generator
    ) -> dict[str, float]:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (missing keys: a fresh probe)."""
