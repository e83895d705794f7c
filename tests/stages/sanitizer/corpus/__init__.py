"""Our own corpus of synthetic chats, a regression test only (test_evaluation.py): a seeded generator of
labeled Cognigy records (`chats`), token-level scores (`scoring`) and our engine's run over it (`run`).
Its rules and the engine were written together, so its scores say nothing about unseen conversations: the
dev set (test_chat_pii_dev.py) and bench/sanitizer_bench.py measure those."""
