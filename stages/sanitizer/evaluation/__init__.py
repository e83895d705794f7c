"""The sanitizer's evaluation harness: a seeded, labeled corpus of synthetic chats (`corpus`) and
token-level scores (`scoring`). `python -m stages.sanitizer.evaluation` scores our engine on it;
bench/sanitizer_bench.py compares it with Presidio on the same corpus."""
