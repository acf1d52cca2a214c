"""Web maps (folium), served by the API."""
