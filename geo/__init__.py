"""gridsafe's spatial core: storage, locating, risk, coverage and routing (no web code here)."""
