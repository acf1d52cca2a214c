"""ASGI entry point: ``uvicorn api.main:app`` (``gridsafe serve`` runs it)."""

from api.app import create_app
from geo.settings import get_settings

app = create_app(get_settings())
