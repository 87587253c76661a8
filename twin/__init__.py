"""The domain of the Zhanjiang port twin: port model, live state, port calls, KPIs, alerts, UKC.

Importing this package touches no disk, starts no thread and loads no UI library
(dash, panel, pydeck, websockets); a test guards that rule.
"""

__version__ = "0.1.0"
