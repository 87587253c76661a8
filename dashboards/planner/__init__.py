"""Planner screen (Panel): a what-if scenario against the baseline port, side by side.

`dashboards.planner.server.start_planner_server(port, depth, ...)` serves it; one shared
`PlannerStore` holds the scenarios and runs windows and fast-time comparisons for every session.
"""
