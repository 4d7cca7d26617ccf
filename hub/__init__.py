"""Back Office interoperability hub."""
__version__ = "0.1.0"
