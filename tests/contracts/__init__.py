"""Contract tests: every adapter of a port runs the same suite from o2c.testing."""
