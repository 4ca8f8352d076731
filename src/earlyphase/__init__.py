"""earlyphase: a reproducibility pipeline for the early period of neural-network training.

Reproduces Liu & Gurevych, "Early Period of Training Impacts Out-of-Distribution
Generalization" (arXiv v1), and the headline experiments of the papers it builds on, cited
in the modules by author and year:

* Jastrzebski et al. (2021), "Catastrophic Fisher explosion: Early phase Fisher matrix impacts
  generalization" (ICML 2021);
* Kalra & Barkeshli (2023), "Phase diagram of early training dynamics in deep neural networks:
  effect of the learning rate, depth, and width" (NeurIPS 2023);
* Berariu et al. (2021), "A study on the plasticity of neural networks" (arXiv:2106.00042).
"""

__version__ = "0.1.0"
