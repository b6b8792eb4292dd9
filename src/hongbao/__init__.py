"""hongbao: an open-source red-packet (红包) platform on a double-entry ledger."""

__version__ = "0.1.0"
