"""The simulator's parts; the public face is `feeds.simulate` (docs/simulator.md)."""
