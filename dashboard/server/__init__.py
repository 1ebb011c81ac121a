"""The web server: the Dash app factory, production serving (gunicorn), auth, compression,
error pages and write access."""
