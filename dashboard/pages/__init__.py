"""Dash pages (registered with dash.register_page)."""
