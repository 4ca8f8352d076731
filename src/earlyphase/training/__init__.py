"""Training and evaluating one run: the loop, batches, the fast path, checkpoints, RNG state, device, progress."""
