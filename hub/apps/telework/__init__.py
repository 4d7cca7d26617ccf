"""The telework central application (seed 001 manual, seed 003 New Normal, seed 000 pilot).

Layout:
    domain/      pure rules: eligibility, authority, calendar of days, evidence, reporting
    ports.py     what the app needs from other systems (HR, correspondence, finance, audit)
    service.py   the use cases, on ports only
    documents.py the telework standards the documents are validated against
    fakes.py     in-memory implementations of the ports (tests, and systems not yet connected)
    hub_ports.py the ports implemented through the hub's own messages and adapters
    store_sql.py the app's own tables
    api.py, cli.py entry points
"""
