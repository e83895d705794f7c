"""Recognizers: one module per entity type, registered in `registry`."""
