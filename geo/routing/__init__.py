"""Patrol route planning on the road network.

``network`` builds the pgRouting graph from the roads, ``osm`` imports roads from OSM PBF,
``matrix`` snaps places to it and asks pgRouting for travel times and paths, ``model`` holds
the planning instance and the one schedule rule every solver shares, ``ils`` is the PyVRP
planner (the default), ``solver`` the OR-Tools planner, ``exact`` the exact solver for small
instances, ``greedy`` the nearest-neighbour baseline, ``plan`` turns a request into a stored
plan, ``export`` writes GeoJSON and GPX.
"""
