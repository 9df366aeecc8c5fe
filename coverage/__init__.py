"""Fire-station coverage and response-time optimiser."""

__version__ = "0.1.0"
