"""cem-bridge: customer experience scores beside your CRM."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cem-bridge")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
