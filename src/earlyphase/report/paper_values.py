"""Numbers the papers report, to print beside ours (accuracy in percent).

Primary paper (Liu & Gurevych, "Early Period of Training Impacts Out-of-Distribution
Generalization", arXiv v1), Table 1 (ID / OOD accuracy).
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

# The SGD variant of the MNIST column (setup mnist-resnet18-sgd): arXiv v1's MNIST numbers
# come from SGD, so they stand beside it as beside the AdamW default.
TABLE1.update({("mnist-resnet18-sgd", row): value for (setup, row), value in list(TABLE1.items())
               if setup == "mnist-resnet18"})
V1_OPTIMIZER = {"mnist": ("SGD", "AdamW")}
"""Where arXiv v1 trained with another optimizer than the seed's Table 3 lists: dataset ->
(v1's, Table 3's)."""

SETUP_TITLES = {
    "mnist-resnet18": "MNIST ResNet-18",
    "mnist-resnet18-sgd": "MNIST ResNet-18 (SGD)",
    "cifar10-resnet18": "CIFAR-10 ResNet-18",
    "cifar100-resnet18": "CIFAR-100 ResNet-18",
    "cifar10-vgg11": "CIFAR-10 VGG-11",
    "fmnist-resnet18": "Fashion-MNIST ResNet-18",
}

# Seed Table 2, learning-rate switch on CIFAR-10 ResNet-18 (values as in arXiv v1): row -> (ID, OOD).
# The delayed-Fisher-penalty half of the seed's Table 2 has no numbers in the available text.
TABLE2_LR = {
    "lr_d": (93.32, 72.36),
    "lr_l2h": (93.35, 72.89),
    "0.1·lr_d": (91.66, 71.14),
    "lr_h2l": (91.58, 71.18),
}
TABLE2_SETUP = "cifar10-resnet18"

# arXiv v1 Table 2 (stabilization heuristic): (setup, metric) -> (chosen k, ID, OOD, win rate %
# or None where the table gives none).
STABILIZATION = {
    ("mnist-resnet18", "worst_sharpness"): (270, 98.78, 52.48, None),
    ("mnist-resnet18", "avg_sharpness"): (270, 98.78, 52.48, None),
    ("mnist-resnet18", "fisher_trace"): (210, 98.91, 54.12, None),
    ("cifar10-resnet18", "worst_sharpness"): (230, 93.06, 72.75, None),
    ("cifar10-resnet18", "avg_sharpness"): (270, 93.02, 72.58, None),
    ("cifar10-resnet18", "fisher_trace"): (260, 93.02, 73.56, None),
    ("cifar100-resnet18", "worst_sharpness"): (260, 70.68, 45.19, 60.0),
    ("cifar100-resnet18", "avg_sharpness"): (250, 70.67, 45.35, 60.0),
    ("cifar100-resnet18", "fisher_trace"): (230, 70.78, 45.82, 83.0),
    ("cifar10-vgg11", "worst_sharpness"): (960, 87.69, 71.47, 40.0),
    ("cifar10-vgg11", "avg_sharpness"): (1010, 87.71, 72.37, 100.0),
    ("cifar10-vgg11", "fisher_trace"): (250, 88.40, 71.86, 60.0),
}
