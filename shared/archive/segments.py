"""The archive's layout and segment format, shared by the archiver (writes segments), the notifier (writes
the manifest) and the `archive` commands (read, verify, expire).

    <export_id>/segments/<topic>+<partition>+<offset:020d>.<jsonl|csv>.zst   one sanitized page, zstd
    <export_id>/segments/<same>.meta.json                                   its SegmentMeta, written right after
    <export_id>/segments/<same>.e<n>.<jsonl|csv>.zst                        its rewrite by the n-th erasure
    <export_id>/records/conversation_date=<YYYY-MM-DD>/<topic>+<partition>+<offset:020d>.parquet
                                                   a Parquet file: the records of several pages of one date
    <export_id>/segments/<date>+<topic>+<partition>+<offset:020d>.meta.json    its SegmentMeta
    <export_id>/dictionaries/<dictionary id>.zdict                          the zstd dictionary segments use
    <export_id>/subjects.idx (.e<n>.idx after the n-th erasure)              the subject index (subject_index.py)
    <export_id>/manifest.json                                               written last, when the export is whole
    <export_id>/legal-hold.json                                             present = `archive expire` skips it
    <export_id>/failed.json                                                 why an export failed (no manifest then)

A JSONL or CSV segment is one page: its boundary comes from the data, never the clock, and its key from (export, topic,
partition, offset), so a replay rebuilds the same bytes under the same key. JSONL segments are compressed
with a zstd dictionary trained on conversation records (see bench/archiver_bench.py for what it gains on
page-sized segments); the frame names the dictionary's id, and a copy of the dictionary is stored with the
export, so an archive reads back with nothing but zstd (and, if it is encrypted, the export's data key: see
shared/archive/encryption.py; the zstd frame is sealed whole, so `sha256` is over the sealed bytes and
`encryption.plain_sha256` over the frame inside). A Parquet file (shared/archive/parquet_records.py) holds
the records of one date from the pages of one export that the archiver read within one window of input
offsets (stages/archiver/file_windows.py): boundaries from the data again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import zstandard

from shared.archive.encryption import ALGORITHM, DataKey
from shared.archive.parquet_records import PARQUET_ENCRYPTION, file_keys, records_table, write_tables
from shared.archive.storage import ObjectStore
from shared.errors import SegmentError
from shared.messages import OutputFormat

COMPRESSION_LEVEL = 6
BUILTIN_DICTIONARY = Path(__file__).parent / "dictionaries" / "cognigy-conversations.zdict"
_json = msgspec.json.Encoder()


class SegmentEncryption(msgspec.Struct, frozen=True, kw_only=True):
    algorithm: str
    data_key_id: str
    master_key_id: str
    plain_sha256: str  # of the zstd frame inside ("" for Parquet: its encryption is inside the file)


class PagePart(msgspec.Struct, frozen=True, kw_only=True):
    """The records of one page in a file that holds several (Parquet)."""

    page_index: int
    source_offset: int
    records: int


class SegmentMeta(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    key: str
    sha256: str
    bytes: int
    records: int
    format: OutputFormat = "jsonl"
    dictionary_id: int = 0  # 0: no dictionary
    page_index: int
    source_topic: str
    source_partition: int
    source_offset: int
    key_id: str
    key_check: str = ""  # the check value of the tokenization key (shared/archive/key_check.py); "": archived before it
    encryption: SegmentEncryption | None = None
    subjects: str = ""  # the segment's subject index entries (subject_index.py); the manifest leaves them out
    # A Parquet file holds parts of several pages (page_index and source_offset are its first page's):
    pages: list[PagePart] = []
    conversation_date: str = ""  # its Hive partition value (parquet_records.conversation_date)
    compacted: bool = False  # a Parquet file merged from small ones when the export completed (compaction.py)


def page_parts(meta: SegmentMeta) -> list[PagePart]:
    """The pages a segment holds records of: its `pages`, or the one page of a JSONL or CSV segment."""
    return meta.pages or [PagePart(page_index=meta.page_index, source_offset=meta.source_offset, records=meta.records)]


def segment_key(export_id: str, topic: str, partition: int, offset: int, fmt: OutputFormat = "jsonl",
                erasure: int = 0) -> str:
    revision = f".e{erasure}" if erasure else ""
    return f"{export_id}/segments/{topic}+{partition}+{offset:020d}{revision}.{fmt}.zst"


def records_key(export_id: str, conversation_date: str, topic: str, partition: int, offset: int,
                erasure: int = 0, compacted: bool = False) -> str:
    """A Parquet file: Hive-partitioned by conversation date, named by its first page's input offset (`.c` once
    merged from several by compaction, `.e<n>` after the n-th erasure)."""
    revision = (".c" if compacted else "") + (f".e{erasure}" if erasure else "")
    return (f"{export_id}/records/conversation_date={conversation_date}/"
            f"{topic}+{partition}+{offset:020d}{revision}.parquet")


def subjects_key(export_id: str, erasure: int = 0) -> str:
    return f"{export_id}/subjects{f'.e{erasure}' if erasure else ''}.idx"


def meta_key(segment: str) -> str:
    """Where a segment's SegmentMeta is: beside a JSONL or CSV segment; for a Parquet file under segments/
    (never among the data files, which engines read as a table)."""
    if segment.endswith(".parquet"):
        export_id, _, partition, name = segment.split("/")
        return f"{export_id}/segments/{partition.partition('=')[2]}+{name.removesuffix('.parquet')}.meta.json"
    return segment.rsplit(".", 2)[0] + ".meta.json"


def dictionary_key(export_id: str, dictionary_id: int) -> str:
    return f"{export_id}/dictionaries/{dictionary_id}.zdict"


def manifest_key(export_id: str) -> str:
    return f"{export_id}/manifest.json"


def legal_hold_key(export_id: str) -> str:
    return f"{export_id}/legal-hold.json"


def failure_key(export_id: str) -> str:
    return f"{export_id}/failed.json"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- dictionaries -----------------------------------------------------------------------------------------


@cache
def load_dictionary(setting: str) -> bytes | None:
    """The dictionary `CA_ARCHIVE_DICTIONARY` names: "builtin", "none", or a file path."""
    if setting == "none":
        return None
    return (BUILTIN_DICTIONARY if setting == "builtin" else Path(setting)).read_bytes()


def dictionary_id(dictionary: bytes | None) -> int:
    return zstandard.ZstdCompressionDict(dictionary).dict_id() if dictionary else 0


# --- encoding ---------------------------------------------------------------------------------------------


def encode_segment(records: list[dict[str, Any]], fmt: OutputFormat = "jsonl",
                   dictionary: bytes | None = None) -> bytes:
    """The compressed segment: the same records, format and dictionary always give the same bytes."""
    body = encode_csv(records) if fmt == "csv" else b"".join(_json.encode(r) + b"\n" for r in records)
    # A dictionary trained on JSON records does not help CSV rows: CSV segments go without.
    dict_data = _prepared(dictionary) if dictionary and fmt == "jsonl" else None
    compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, write_checksum=True, dict_data=dict_data)
    return compressor.compress(body)


@cache
def _prepared(dictionary: bytes) -> zstandard.ZstdCompressionDict:
    """The dictionary digested once for our level: loading it for every segment costs a third of the time."""
    prepared = zstandard.ZstdCompressionDict(dictionary)
    prepared.precompute_compress(level=COMPRESSION_LEVEL)
    return prepared


def segment_dictionary_id(data: bytes) -> int:
    return int(zstandard.get_frame_parameters(data).dict_id)


def content_size(data: bytes) -> int:
    """The uncompressed size of a segment (its frame header records it)."""
    return int(zstandard.get_frame_parameters(data).content_size)


def decode_segment(data: bytes, fmt: OutputFormat = "jsonl", dictionaries: Mapping[int, bytes] | None = None,
                   ) -> list[dict[str, Any]]:
    """The records of a segment; `dictionaries` by id must hold the one its frame names, if any."""
    wanted = segment_dictionary_id(data)
    dict_data = None
    if wanted:
        if not dictionaries or wanted not in dictionaries:
            raise SegmentError(f"needs zstd dictionary {wanted}, which is not in the archive")
        dict_data = zstandard.ZstdCompressionDict(dictionaries[wanted])
    try:
        body = zstandard.ZstdDecompressor(dict_data=dict_data).decompress(data)
    except zstandard.ZstdError as exc:
        raise SegmentError(f"not a valid zstd segment: {exc}") from None
    if fmt == "csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(body.decode()))]
    try:
        return [msgspec.json.decode(line) for line in body.splitlines() if line]
    except msgspec.DecodeError as exc:
        raise SegmentError(f"not JSON lines: {exc}") from None


def encode_csv(records: list[dict[str, Any]]) -> bytes:
    """One header row, then a row per record. Columns in order of first appearance; nested values as
    compact JSON, null as an empty cell, booleans as true/false (as in the JSON)."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(record.get(column)) for column in columns] for record in records)
    return out.getvalue().encode()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json.encode(value).decode()


def seal_segment(data_key: DataKey, master_key_id: str, frame: bytes, key: str) -> tuple[bytes, SegmentEncryption]:
    """The frame sealed for storage under `key`, and what its metadata records about that."""
    return data_key.seal(frame, key), SegmentEncryption(algorithm=ALGORITHM, data_key_id=data_key.key_id,
                                                        master_key_id=master_key_id, plain_sha256=sha256_hex(frame))


def encode_parquet_file(records: list[dict[str, Any]], data_key: DataKey | None = None, master_key_id: str = "",
                        row_group_records: int = 100_000) -> tuple[bytes, SegmentEncryption | None]:
    """A Parquet file of the records, encrypted (Parquet modular encryption) under the export's data key if
    one is given, and what its metadata records about that."""
    return encode_parquet_tables([records_table(records)], data_key, master_key_id, row_group_records)


def encode_parquet_tables(tables: list[pa.Table], data_key: DataKey | None = None, master_key_id: str = "",
                          row_group_records: int = 100_000) -> tuple[bytes, SegmentEncryption | None]:
    """`encode_parquet_file` of records already converted (parquet_records.records_table)."""
    if data_key is None:
        return write_tables(tables, row_group_records=row_group_records), None
    data = write_tables(tables, keys=file_keys(data_key, master_key_id), row_group_records=row_group_records)
    return data, SegmentEncryption(algorithm=PARQUET_ENCRYPTION, data_key_id=data_key.key_id,
                                   master_key_id=master_key_id, plain_sha256="")


# --- metadata objects -------------------------------------------------------------------------------------


async def write_meta(store: ObjectStore, meta: SegmentMeta) -> None:
    await store.put(meta_key(meta.key), _json.encode(meta))


async def read_meta(store: ObjectStore, segment: str) -> SegmentMeta:
    return msgspec.json.decode(await store.get(meta_key(segment)), type=SegmentMeta)


async def read_metas(store: ObjectStore, export_id: str) -> list[SegmentMeta]:
    keys = [k for k in await store.keys(f"{export_id}/segments") if k.endswith(".meta.json")]
    return [msgspec.json.decode(await store.get(k), type=SegmentMeta) for k in keys]


async def read_dictionaries(store: ObjectStore, keys: Iterable[str]) -> dict[int, bytes]:
    out = {}
    for key in keys:
        data = await store.get(key)
        out[dictionary_id(data)] = data
    return out
