"""Local generation of the CIFAR-10-C / CIFAR-100-C and MNIST-C corruptions.

Every corruption is a batched numpy function ``f(images, severity, rng) -> images`` taking
and returning uint8 NHWC arrays; ``rng`` is a ``numpy.random.Generator`` so that results
are reproducible. ``cifar_c.CIFAR_C_CORRUPTIONS`` and ``mnist_c.MNIST_C_CORRUPTIONS`` are
the registries; the building blocks live in ``noise``, ``blur``, ``weather``, ``digital``,
``geometric`` and ``strokes``.
"""
