"""The output layer: computation → layers → files.

``files`` (atomic writers, imports nothing of the project) ← ``layers`` (GIS
layers and tables) ← ``maps`` (Folium) ← ``report`` (HTML) ← ``write`` (writes
a whole run). Nothing outside this package writes result files.
"""
