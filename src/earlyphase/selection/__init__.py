"""Choices made from finished runs by workflow checkpoints: eta* and the stabilization k."""
