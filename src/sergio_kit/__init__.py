"""sergio-kit: contract, auth, rate-limit and load testing for the Sergio API."""

__version__ = "0.1.0"
