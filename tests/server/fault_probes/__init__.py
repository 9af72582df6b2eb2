"""One probe per reference-server fault: each exercises exactly one rule over real HTTPS.

A probe is ``probe(server, clock)``: it returns when ``server`` keeps the rule and raises
``AssertionError`` (saying what was sent and what came back) when the rule is broken. ``PROBES``
(:mod:`.registry`) maps every fault id (= check id) to its probe; one module per group of faults
(``contract``, ``auth``, ``refresh``, ``apikey``, ``transport``, ``ratelimit``, ``webhook``) and
``plumbing`` for what they share. Probes freeze the server clock where timing matters and never sleep.
"""
