"""The dashboard's CSS and JS, shipped as the package ``dashboard.assets`` (see pyproject.toml)."""
