"""Open-set active learning with Meta-Query-Net."""

import logging

import lazy_loader

# The public names load on first use, from the imports listed in
# __init__.pyi (which type checkers read): `import skal_openset` is instant,
# and the command line can handle a Ctrl-C while torch loads.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)

__version__ = "0.1.0.dev0"

# Quiet unless the application configures logging (the library convention).
logging.getLogger("skal_openset").addHandler(logging.NullHandler())
