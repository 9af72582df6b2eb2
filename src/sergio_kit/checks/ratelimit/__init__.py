"""``ratelimit.*``: one probe per tier and surface, the cross-tier rules, and the live plan that
runs them all at once."""
