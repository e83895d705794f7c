"""The verifier: proves each page arrived intact and splits it into records."""
