"""Report layer: one module per table or figure of the papers, each with
``render(tables, out, note)`` (see the artifact registry in :mod:`earlyphase.experiments`).

Shared pieces: :mod:`._common` writes every figure (PDF + PNG) and every table (CSV, LaTeX)
atomically. The plotting backend is chosen here, once, before any report module imports
pyplot: Agg, files only, identical on a laptop, a CI runner and a cluster node.
"""

import matplotlib

matplotlib.use("Agg")
