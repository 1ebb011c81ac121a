"""Reading-group features: notes and tags on examples, saved views, the author of a note."""
