"""Streamlit-side helpers shared by the pages: resources, caching, banners and safe rendering."""
