"""The ``gridsafe`` command line (typer): one sub-command group per module, ``cli.main:app``.

It sits beside ``api/`` on top of ``geo/``: it calls the domain directly, never the HTTP layer.
"""
