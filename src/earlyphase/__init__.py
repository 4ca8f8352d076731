"""earlyphase: a reproducibility pipeline for the early period of neural-network training.

Reproduces Liu & Gurevych, "Early Period of Training Impacts Out-of-Distribution
Generalization", and the headline experiments of the papers it builds on.
"""

__version__ = "0.1.0"
