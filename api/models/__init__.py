"""What the API answers, as pydantic models: the OpenAPI spec shows them to a client.

One module per resource (``areas``, ``records``, ``cases``, ...) and ``common`` for the pieces
they share: GeoJSON geometries, features and collections, instants as the database writes
them, import reports and the error body. Routes that return a dict declare the model as
``response_model`` (checked and serialised by FastAPI); routes that pass on JSON built by
PostGIS declare it in ``responses`` only, so the text goes out as the database wrote it.
"""
