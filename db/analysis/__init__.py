"""Numerical analysis of stored arrays (agreement metrics, ...): numpy and scipy in, numbers out; no SQL."""
