"""Explanation methods: a registry of string ids, one module per method."""
