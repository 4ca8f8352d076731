"""Numbers the papers report, to print beside ours (accuracy in percent).

Primary paper, arXiv v1 Table 1 (ID / OOD accuracy), as collected in PAPER_FACTS.md.
Keys: (setup, row label) -> (ID, OOD).
"""

TABLE1 = {
    ("mnist-resnet18", "lr_d"): (99.06, 33.36),
    ("mnist-resnet18", "lr_d + GU"): (98.98, 63.99),
    ("mnist-resnet18", "0.1·lr_d"): (99.26, 58.46),
    ("mnist-resnet18", "0.1·lr_d + GU"): (99.18, 62.51),
    ("cifar10-resnet18", "lr_d"): (93.32, 72.36),
    ("cifar10-resnet18", "lr_d + GU"): (93.26, 72.95),
    ("cifar10-resnet18", "0.1·lr_d"): (91.66, 71.14),
    ("cifar10-resnet18", "0.1·lr_d + GU"): (91.51, 71.26),
    ("cifar100-resnet18", "lr_d"): (71.07, 45.10),
    ("cifar100-resnet18", "lr_d + GU"): (71.03, 46.34),
    ("cifar100-resnet18", "0.1·lr_d"): (69.95, 44.59),
    ("cifar100-resnet18", "0.1·lr_d + GU"): (70.67, 46.03),
    ("cifar10-vgg11", "lr_d"): (88.62, 71.63),
    ("cifar10-vgg11", "lr_d + GU"): (88.53, 72.16),
    ("cifar10-vgg11", "0.1·lr_d"): (86.93, 68.41),
    ("cifar10-vgg11", "0.1·lr_d + GU"): (87.01, 69.45),
}

SETUP_TITLES = {
    "mnist-resnet18": "MNIST ResNet-18",
    "cifar10-resnet18": "CIFAR-10 ResNet-18",
    "cifar100-resnet18": "CIFAR-100 ResNet-18",
    "cifar10-vgg11": "CIFAR-10 VGG-11",
}
