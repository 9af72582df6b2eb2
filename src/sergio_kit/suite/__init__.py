"""The conformance suite ``sergio-kit check`` runs: pytest modules named by check id."""
