"""Spendgate: real-time spend control and usage billing for AI products."""

__version__ = "0.1.0"
__all__ = ["__version__"]
