"""Finding PII in a batch of Cognigy records: where the texts are, what the conversation says each one
holds, what single texts hold (`detector`, in this process or a pool of workers), then what only the
whole session shows: numbers split across turns (`split_values`) and values found once and repeated
(`echoes`). Identical texts with the same expectation (bot prompts repeat in every session) are analysed
once. Nothing here logs a text or a value."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from shared.messages import PiiRule
from stages.sanitizer.actions import resolve_overlaps
from stages.sanitizer.already_redacted import blank, redacted_spans
from stages.sanitizer.context import Expectation, expectations, key_types
from stages.sanitizer.detector import DetectionOptions, TextDetector, TextItem
from stages.sanitizer.echoes import Echoes
from stages.sanitizer.fields import Leaf, text_leaves
from stages.sanitizer.language import LANGUAGES, LanguageGuesser
from stages.sanitizer.ner import AUTO, NerModels, NerRunner, resolve_models
from stages.sanitizer.persona import bot_names
from stages.sanitizer.policy import Policy
from stages.sanitizer.pool import DetectorPool
from stages.sanitizer.recognizers.answer import continuation
from stages.sanitizer.recognizers.base import Detection, squash
from stages.sanitizer.recognizers.phone import DEFAULT_REGIONS, PhoneRecognizer
from stages.sanitizer.split_values import split_readers, split_values

_INPUT_TEXT = ("inputText",)
_ALNUM = re.compile(r"[^\W_]")
CONTINUATION_SCORE = 0.6


class Finding(msgspec.Struct, frozen=True):
    """One text of one record (`records[record]` at `leaf.path`) and the PII found in it: non-overlapping,
    sorted by start, with character offsets into `leaf.text`."""

    record: int
    leaf: Leaf
    detections: list[Detection]


class PiiAnalyzer:
    def __init__(self, model: str = AUTO, workers: int = 1, phone_regions: Sequence[str] = DEFAULT_REGIONS,
                 allow_list: Sequence[str] = (), languages: Sequence[str] = LANGUAGES,
                 bare_answers: bool = True, ner: NerRunner | None = None) -> None:
        """`model`: "auto", "none" or spaCy packages (see `ner.resolve_models`); `workers`: processes that
        find PII in texts (1: this process, no pool); `allow_list`: see `TextDetector`; `languages`: those the
        conversations may be in (see `language`); `bare_answers`: see `recognizers.answer`; `ner`: with one
        worker, what runs the models instead of `model`'s in this process (a `ner_process.NerProcess`
        started earlier). Raises ConfigError if a model cannot be loaded."""
        if ner is None or workers > 1:
            names = resolve_models(model)
            ner = NerModels(names if workers == 1 else {})
            ner.get("en")  # a broken English model fails here, not on the first page
        else:
            names = ner.names
        options = DetectionOptions(tuple(phone_regions), tuple(allow_list), bare_answers)
        self._local = TextDetector(ner, options)
        self._pool = DetectorPool(workers, names, options) if workers > 1 else None
        self.uses_ner = bool(names)
        self._languages = LanguageGuesser(languages)
        self._readers = split_readers(PhoneRecognizer(phone_regions).possible_number)

    def policy(self, rules: Sequence[PiiRule]) -> Policy:
        """Raises ValidationFailed if a rule cannot be applied."""
        return self._local.policy(rules)

    def analyze_records(self, records: Sequence[Mapping[str, Any]], rules: Sequence[PiiRule],
                        context: Sequence[Mapping[str, Any]] = ()) -> list[Finding]:
        """Every text of every record, in record order, with the PII found in it per `rules`; `context`
        records (those just before) only inform what the conversation expects. Raises ValidationFailed if a
        rule cannot be applied."""
        policy = self.policy(rules)
        texts, items = _texts(records, context, self._languages)
        found = self._detect(items, rules)
        by_session: defaultdict[Any, list[int]] = defaultdict(list)
        for position, (record, _, _) in enumerate(texts):
            by_session[records[record].get("sessionId")].append(position)
        self._read_together(texts, items, found, rules, by_session.values())
        for session, positions in by_session.items():
            _drop_bot_names(texts, found, positions, bot_names(_bot_turns([*context, *records], session)))
            self._join_split_values(texts, items, found, positions)
            _add_continuations(texts, items, found, positions)
            _add_echoes(texts, items, found, positions, policy)
        return [Finding(record, leaf, detections) for (record, leaf, _), detections in zip(texts, found, strict=True)]

    def close(self) -> None:
        self._local.models.close()
        if self._pool is not None:
            self._pool.close()

    def _detect(self, items: list[TextItem], rules: Sequence[PiiRule]) -> list[list[Detection]]:
        unique = list(dict.fromkeys(items))
        detect = self._local.detect if self._pool is None else self._pool.detect
        by_item = dict(zip(unique, detect(unique, rules), strict=True))
        return [by_item[item] for item in items]

    def _read_together(self, texts: list[_Text], items: list[TextItem], found: list[list[Detection]],
                       rules: Sequence[PiiRule], sessions: Iterable[list[int]]) -> None:
        """A value typed over two messages in a row ("0664", "0908476"; "cal.fitz", "@gmail.com"; "his reg was
        BD68", "ZPN"): the two texts are read as one, with a space and without, and a value found across the
        break is that value in both, with one type and one normalized value."""
        pairs = [pair for positions in sessions for pair in _consecutive_user_turns(texts, items, positions)]
        if not pairs:
            return
        joined = [msgspec.structs.replace(items[a], text=items[a].text + glue + items[b].text, redacted=())
                  for a, b in pairs for glue in _GLUES]
        results = iter(self._detect(joined, rules))
        for a, b in pairs:
            boundary = len(items[a].text)
            for glue, detections in [(glue, next(results)) for glue in _GLUES]:
                after = boundary + len(glue)
                across = [d for d in detections if d.start < boundary and d.end > after]
                if across:
                    found[a] = resolve_overlaps(
                        [*found[a], *(msgspec.structs.replace(d, end=boundary) for d in across)], texts[a][1].text)
                    found[b] = resolve_overlaps(
                        [*found[b], *(msgspec.structs.replace(d, start=0, end=d.end - after) for d in across)],
                        texts[b][1].text)
                    break

    def _join_split_values(self, texts: list[_Text], items: list[TextItem], found: list[list[Detection]],
                           positions: list[int]) -> None:
        answers: defaultdict[int, list[int]] = defaultdict(list)
        for p in positions:
            _, leaf, expectation = texts[p]
            if leaf.path == _INPUT_TEXT and expectation.question is not None:
                answers[expectation.question].append(p)
        for group in answers.values():
            if len(group) < 2:
                continue
            expected = texts[group[0]][2].types
            joined = split_values([(texts[p][1].text, found[p]) for p in group], expected, self._readers,
                                  items[group[0]].language)
            if joined is not None:
                for p, detections in zip(group, joined, strict=True):
                    found[p] = resolve_overlaps(detections, texts[p][1].text)


_Text = tuple[int, Leaf, Expectation]  # record index, the text, what the conversation expects in it


def _texts(records: Sequence[Mapping[str, Any]], context: Sequence[Mapping[str, Any]],
           languages: LanguageGuesser) -> tuple[list[_Text], list[TextItem]]:
    asked = expectations([*context, *records])[len(context):]
    language = _session_languages([*context, *records], languages)
    texts: list[_Text] = []
    items = []
    for index, record in enumerate(records):
        for leaf in text_leaves(record):
            if leaf.key is not None:
                expectation = Expectation(key_types(leaf.key))
            elif leaf.path == _INPUT_TEXT:
                expectation = asked[index]
            else:
                expectation = Expectation()
            spans = redacted_spans(leaf.text)
            texts.append((index, leaf, expectation))
            source = record.get("source") if leaf.path == _INPUT_TEXT else ""
            items.append(TextItem(blank(leaf.text, spans), expectation.types, tuple(spans),
                                  language[record.get("sessionId")], source if isinstance(source, str) else ""))
    return texts, items


def _bot_turns(records: Sequence[Mapping[str, Any]], session: Any) -> list[str]:
    return [text for record in records if record.get("sessionId") == session and record.get("source") == "bot"
            and isinstance(text := record.get("inputText"), str)]


def _drop_bot_names(texts: list[_Text], found: list[list[Detection]], positions: list[int],
                    names: frozenset[str]) -> None:
    """Drops the detections made only of the words of the bot's own and its company's names."""
    if not names:
        return
    for p in positions:
        text = texts[p][1].text
        found[p] = [d for d in found[p] if not set(squash(text[d.start:d.end]).split()) <= names]


def _session_languages(records: Sequence[Mapping[str, Any]], languages: LanguageGuesser) -> dict[Any, str]:
    """The language of each session, from all its turns."""
    turns: defaultdict[Any, list[str]] = defaultdict(list)
    for record in records:
        text = record.get("inputText")
        turns[record.get("sessionId")].append(text if isinstance(text, str) else "")
    return {session: languages.guess(texts) for session, texts in turns.items()}


MAX_JOINED_WORDS = 3  # the second of two messages read together is a short fragment
_GLUES = (" ", "")  # how two messages are read together: as words, and as one string ("cal.fitz" "@gmail.com")


def _consecutive_user_turns(texts: list[_Text], items: list[TextItem], positions: list[int],
                            ) -> list[tuple[int, int]]:
    """The positions of user messages in a row, the second a short fragment, in one session's `positions`."""
    turns = [p for p in positions if texts[p][1].path == _INPUT_TEXT]
    return [(a, b) for a, b in itertools.pairwise(turns)
            if items[a].source == items[b].source == "user" and 0 < len(items[b].text.split()) <= MAX_JOINED_WORDS]


def _add_continuations(texts: list[_Text], items: list[TextItem], found: list[list[Detection]],
                       positions: list[int]) -> None:
    """A value the user splits over two messages in a row ("i think the reg was KT71", "XWD"; "cal.fitz@",
    "gmail.com"): when a user turn ends with a value and the user's next turn is a short fragment, the
    fragment is the rest of that value."""
    turns = [p for p in positions if texts[p][1].path == _INPUT_TEXT]
    for before, after in itertools.pairwise(turns):
        if items[before].source != "user" or items[after].source != "user" or not found[before] or found[after]:
            continue
        last = found[before][-1]
        if _ALNUM.search(texts[before][1].text, last.end):
            continue
        fragment = continuation(texts[after][1].text, last.entity_type, items[after].language)
        if fragment is not None:
            start, end = fragment
            found[after] = [Detection(start, end, last.entity_type, CONTINUATION_SCORE,
                                      squash(texts[after][1].text[start:end]))]


def _add_echoes(
    texts: list[_Text], items: list[TextItem], found: list[list[Detection]], positions: list[int], policy: Policy
) -> None:
    language = items[positions[0]].language if positions else "en"
    echoes = Echoes(((texts[p][1].text, d) for p in positions for d in found[p]), language)
    for p in positions:
        extra = [d for d in echoes.find(items[p].text, items[p].source) if policy.keeps(d, items[p].redacted)]
        if extra:
            found[p] = resolve_overlaps([*found[p], *extra], items[p].text)
