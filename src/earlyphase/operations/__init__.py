"""Operating the workflow: atomic writes, GPU slots, stale-lock recovery, the cost model."""
