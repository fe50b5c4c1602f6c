"""Bastion: the offline security assistant (the laptop runtime)."""

__version__ = "0.1.0"
