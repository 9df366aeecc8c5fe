"""The output layer: computation → layers → files.

``files`` (atomic writers and whole-run folders; imports nothing of the project)
and ``words`` (numbers in a planner's units; imports nothing either) ←
``summary`` (the one ``summary.json`` schema) ← ``layers`` (GIS layers and
tables) ← ``maps`` (Folium) ← ``report`` (HTML) ← ``write`` (writes a whole run).
Nothing outside this package writes result files.
"""
