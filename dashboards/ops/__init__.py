"""Ops desk (Panel): zone drill-down over the live 3D port, alerts desk, vessel pages.

`dashboards.ops.server.start_ops_server(port, stream_url, ...)` serves it; one shared
`OpsStore` follows the engine's bus for every browser session.
"""
