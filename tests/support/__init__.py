"""Helpers the tests share: tiny checkpoints, stores, CLI arguments, browser and server support."""
