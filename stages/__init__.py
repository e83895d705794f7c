"""The five stage processes, one folder each."""
