"""Vigil: open video intelligence for cities, without biometric identification."""

__version__ = "0.1.0"
