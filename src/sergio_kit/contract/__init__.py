"""What the kit and the reference server read from the contract: operations, tiers, the window,
sample bodies, and the packaged files."""
