"""ASGI entry point: ``uvicorn api.main:app`` (``gridsafe serve`` runs it)."""

import gc

from api.app import create_app
from geo.settings import get_settings

app = create_app(get_settings())

# A worker has imported everything it serves with by now: some 350,000 objects (the libraries'
# modules, classes and tables) that live as long as it does. Frozen, the collector no longer
# walks them: a full collection, which Python starts on its own under load, stopped the worker
# for 0.1-1 s (measured on the shared 2-core machine), the slowest answers at one client.
gc.collect()
gc.freeze()
