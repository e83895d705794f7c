"""`python -m stages.sanitizer.evaluation [CONVERSATIONS] [--no-model]`: our engine's scores on the
labeled corpus, as JSON."""

from __future__ import annotations

import sys

import msgspec

from stages.sanitizer.analyzer import PiiAnalyzer
from stages.sanitizer.evaluation.corpus import ALLOW_LIST, generate
from stages.sanitizer.evaluation.run import evaluate

if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    conversations = int(arguments[0]) if arguments else 500
    analyzer = PiiAnalyzer("none" if "--no-model" in sys.argv else "auto", allow_list=ALLOW_LIST)
    print(msgspec.json.format(msgspec.json.encode(evaluate(analyzer, generate(conversations))), indent=2).decode())
