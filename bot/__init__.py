"""skillbot: ships AWS Lambda code behind a live Alexa skill by rotating two aliases.

``bot.__version__`` is the installed distribution's version (``skillbot --version``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skillbot")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
