"""The HTTP face of Riverton's simulated systems: Open311 for the 311 CRM, SODA for the procurement portal.

Modules: ``open311`` and ``soda`` (the two protocols), ``soql`` (the SoQL subset, compiled to
parameterised SQL), ``database`` (read-only store access), ``faults`` (fault injection for
connector tests), ``app`` (assembly, ``serve`` for the CLI, ``serve_in_thread`` for tests).
"""
from demo_city.servers.app import RunningServer, build_app, serve, serve_in_thread
from demo_city.servers.faults import Fault

__all__ = ["Fault", "RunningServer", "build_app", "serve", "serve_in_thread"]
