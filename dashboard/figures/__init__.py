"""Pure figure builders (arrays and DataFrames in, plotly figures out); no dash, flask or sqlalchemy here."""
