"""Pure telework rules: no FastAPI, SQLAlchemy, kombu or lxml here."""
