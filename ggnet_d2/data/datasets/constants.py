"""Moved to :mod:`ggnet_d2.formats.vocabulary` (torch-free); this path keeps working."""
from ggnet_d2.formats.vocabulary import *  # noqa: F401,F403
from ggnet_d2.formats.vocabulary import __all__  # noqa: F401
