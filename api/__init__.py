"""gridsafe's HTTP API (FastAPI) and command line (typer); both call into ``geo``."""
