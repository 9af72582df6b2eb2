"""The kit's checks: registry, context, and one module (or package) per group."""
