"""Layer 2 data standards: published artefacts live in standards/, helpers here."""
