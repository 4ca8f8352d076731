"""Early-training phase diagram of Kalra & Barkeshli (2023).

* :mod:`.uv_model` -- the uv model (two-layer linear net, one example) and
  ``run_uv_phase_diagram`` (Figure 7); CLI ``python -m earlyphase.phase_diagram.uv_model``.
* :mod:`.critical_constants` -- ``c_loss``, ``c_sharp``, ``c_max`` (Definition 1) from
  loss / sharpness trajectories, and their averages over initializations.
* :mod:`.fcn_experiment` -- one FCN initialisation trained with SGD at ``eta = c / lambda_0``
  for a grid of ``c`` (``run_fcn_phase_diagram``) and ``fcn_critical_constants``.
"""
