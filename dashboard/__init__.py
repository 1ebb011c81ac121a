"""The dashboard half: a Dash app that reads the store only (never torch or transformers)."""
