"""The ingest half: corpus sources, model adapters, explanation methods, metrics and the
batched, resumable pipeline that writes them to the store. Importing the package is cheap;
torch and transformers are imported by the modules that need them."""
