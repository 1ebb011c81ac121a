"""Attention Atlas: when do transformer attention weights agree with IG and SHAP attributions?

The installed package owns one import name, ``attention_atlas``; its subpackages are the
repository's top-level folders (pyproject.toml maps them with setuptools' ``package-dir``):
``attention_atlas.models`` (the schema and the method vocabulary), ``attention_atlas.db`` (engine,
migrations, queries, writers and ``db.analysis``), ``attention_atlas.ingest`` (the batch job and
the ``attention-atlas`` command) and ``attention_atlas.dashboard`` (the Dash app). Importing it is
cheap: nothing is loaded until a subpackage is imported.
"""
