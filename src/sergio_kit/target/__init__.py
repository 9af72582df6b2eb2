"""The target under test: live or embedded, its logged-in sessions, 429 handling, the test-clock
client and the traffic log."""
