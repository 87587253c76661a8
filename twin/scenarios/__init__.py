"""Example what-if scenarios (TOML), package data read by twin.scenario.bundled()."""
