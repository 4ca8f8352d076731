"""``python -m earlyphase``: see :mod:`earlyphase.cli`."""

import sys

from earlyphase.cli import main

sys.exit(main())
