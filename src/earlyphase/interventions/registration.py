"""What the run grid and the training loop need of one intervention, in one record.

Each intervention module ends with a :class:`Registration` (``REGISTRATION``) and
:data:`earlyphase.interventions.INTERVENTIONS` lists them under their names. The name is
the keyword of :func:`earlyphase.runs.resolve_run` (``gu_k=250``, ``penalty={...}``), which
reads the registrations and nothing else; the training loop builds its interventions from
them. So a new intervention is its module and its registration in the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Intervention


@dataclass(frozen=True)
class Registration:
    """One intervention as :mod:`earlyphase.interventions` registers it.

    ``run_config(value, config, run)``  the entries it adds to a resolved run config, from
        ``value`` (the argument of ``resolve_run`` named after it; ``None`` when not given),
        the params ``config`` and ``run``, the setup's part of the run config (``lr``, ...).
        The entries are hashed into the run id, so a new intervention returns ``{}`` when
        not given: otherwise every existing run id would change.
    ``id_tag(run_config)``  its part of the run id's readable middle (``gu_k250``, ``fisher``),
        or ``""`` when the run does not use it.
    ``build(run_config)``  the :class:`~.base.Intervention` the training loop calls, or
        ``None`` when the run does not use it.
    """

    run_config: Callable[[Any, dict, dict], dict]
    id_tag: Callable[[dict], str]
    build: Callable[[dict], Intervention | None]
