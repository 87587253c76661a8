"""Bundled alert rules files (package data): `zhanjiang_alerts.toml`."""
