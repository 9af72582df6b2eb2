"""``contract.*``: Schemathesis wiring for the contract run, and cleaning up what the fuzzing registered."""
