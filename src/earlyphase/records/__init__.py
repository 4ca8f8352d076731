"""Records of finished runs: reading, aggregating, tabulating, status and publishing them."""
