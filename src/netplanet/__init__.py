"""netplanet: a fast, self-hosted planet for network engineering blogs and podcasts."""

__version__ = "0.1.0"
