"""Reference legacy systems for demos and tests (``hub sim ...``): DPIS, GFMIS, e-Saraban."""
