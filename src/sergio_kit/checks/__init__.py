"""The kit's checks, one module per group (``group_auth.py``, ``group_refresh.py``, ...)."""
