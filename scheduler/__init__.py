"""rota: a staggered two-week pair rotation for a support team.

`scheduler.core` computes the rotation; the modules beside it read and write
files, publish feeds and talk to outside systems.
"""

__version__ = "0.1.0"
