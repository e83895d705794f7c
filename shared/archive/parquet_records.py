"""Sanitized Cognigy conversation records as Parquet: one typed, versioned schema (docs/archive-format.md),
zstd inside, row groups for scans, and Parquet modular encryption when the archive is encrypted.

Exact round trip. `decode_parquet(encode_parquet(records)) == records`, every field and every type. The
documented `Conversations` fields have typed columns; whatever does not fit its column goes, with its value,
into `_extra` (JSON text of an object: unknown fields, a value of another type than its column's, a
timestamp that would not print back identically), and the documented fields a record lacks are named in
`_absent` (JSON text of an array), so that a missing field and a null stay apart. On decode `_extra` wins
over the typed column (the `timestamp` column still holds the instant of a timestamp kept in `_extra`, for
filtering). Nothing is dropped; what cannot be stored exactly (a record that is not an object, a key that
is not a string, NaN or infinity, a value of a type JSON does not have, a string with a lone surrogate,
nesting deeper than shared/nesting.MAX_DEPTH) is refused as `UnarchivableRecord`. Key order within a record
is not kept. Every column is flat (JSON text, never a struct or list): DuckDB (2.0) fails the AES tag check
on any nested column of a pyarrow-encrypted file, and `inputData`'s shape differs from flow to flow.

Deterministic. Unencrypted, the same records give the same bytes (pyarrow's `created_by` names its own
version, never a time). Encrypted, they do not: pyarrow draws a random key for every file and a random nonce
for every encrypted page and footer, so a replay writes a file that differs byte for byte (it decrypts to the
same rows); a manifest cannot recognize the rewrite by the hash of its bytes.

Encryption (FileKeys). Parquet modular encryption with pyarrow's key tools: footer and every column encrypted
(AES-GCM, uniform: one random 256-bit key per file), that key wrapped by the export's data key and kept in the
file's footer key material (`"masterKeyID"`: the data key's id, `"kmsInstanceID"`: the master key's id, both
readable without a key). Destroying the export's data key in the key store leaves every file's key
unwrappable: crypto-shredding works as for sealed segments. The footer is encrypted too: column statistics
and the key-value metadata would otherwise show min/max values of record fields (ids, text) to anyone.
Readers: pyarrow (and parquet-mr/Spark, which share the key material format) with a KmsClient that unwraps
with the export's key (docs/archive-format.md gives the recipe, nothing of this project needed); DuckDB has
no KMS hook but reads pyarrow's uniformly encrypted files given the file's own key (`PRAGMA add_parquet_key`,
then `read_parquet(..., encryption_config = {footer_key: ...})`; DuckDB docs, "Parquet Encryption",
Interoperability), which `file_key` unwraps; since each file has its own key, DuckDB reads one encrypted
file per `read_parquet` call. DuckDB also needs data pages v1 (duckdb/duckdb#24785), which is what we write.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, TypeVar

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe

from shared.archive.encryption import DataKey, DecryptionFailed
from shared.errors import PoisonError, SegmentError
from shared.nesting import MAX_DEPTH

RECORDS_SCHEMA_VERSION = 1
WRITTEN_BY = "cognigy-archiver"
VERSION_KEY = b"cognigy_archiver.records_schema_version"
WRITTEN_BY_KEY = b"cognigy_archiver.written_by"
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# SegmentEncryption.algorithm of an encrypted Parquet file: modular encryption, AES-GCM on every module.
PARQUET_ENCRYPTION = "PARQUET_AES_GCM_V1"
# zstd's level inside Parquet. On 50,000 simulator records level 1 was both the smallest and the fastest of
# 1, 3, 6 and 9 (2.55 MB against 2.61 MB at 6): dictionary-encoded pages leave higher levels little to find.
COMPRESSION_LEVEL = 1
EXTRA = "_extra"
ABSENT = "_absent"

_STRING = pa.string()
_JSON = pa.string()  # JSON text, whatever the value's JSON type
_TIMESTAMP = pa.timestamp("ms", tz="UTC")
# The documented Conversations fields (/work/shared/reference/cognigy-api.md section 2, OData v2.4), in its
# order. v2.3's `_id` is gone with v2.3: a record that has one keeps it in `_extra`.
COLUMNS: dict[str, pa.DataType] = {
    "id": _STRING, "projectId": _STRING, "projectName": _STRING, "organisation": _STRING,
    "inputId": _STRING, "sessionId": _STRING, "contactId": _STRING, "inputText": _STRING,
    "inputData": _JSON, "type": _STRING, "source": _STRING, "timestamp": _TIMESTAMP,
    "flowName": _STRING, "flowParentId": _STRING, "channel": _STRING,
    "inHandoverRequest": pa.bool_(), "inHandoverConversation": pa.bool_(), "outputId": _STRING,
    "inputAttachments": _JSON, "reference": _STRING, "localeReferenceId": _STRING,
    "endpointUrlToken": _STRING, "endpointName": _STRING, "snapshotId": _STRING, "snapshotName": _STRING,
    "rating": pa.int64(), "ratingComment": _STRING,
}
_JSON_COLUMNS = frozenset({"inputData", "inputAttachments"})
_NAMES = frozenset(COLUMNS)
_ROW = itemgetter(*COLUMNS)  # a record's column values, for a record that has every column
SCHEMA = pa.schema(
    [pa.field(name, kind) for name, kind in COLUMNS.items()]
    + [pa.field(EXTRA, _JSON), pa.field(ABSENT, _JSON)],
    metadata={VERSION_KEY: str(RECORDS_SCHEMA_VERSION).encode(), WRITTEN_BY_KEY: WRITTEN_BY.encode()},
)
# Statistics where a query filters (row groups pruned on min/max); none for free text and JSON, whose
# min/max would only fatten the footer.
STATISTICS = [name for name, kind in COLUMNS.items()
               if name not in _JSON_COLUMNS and name not in {"inputText", "ratingComment"}]
_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# The one timestamp spelling that prints back as it came (Cognigy's: UTC, milliseconds, "Z").
_CANONICAL_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_PLAIN_MAGIC, _ENCRYPTED_MAGIC = b"PAR1", b"PARE"
_T = TypeVar("_T")


class UnarchivableRecord(PoisonError):
    """A record that Parquet (or JSON) cannot hold exactly. The message names the record's position and
    the documented field, never a value."""

    code = "unarchivable_record"


# --- keys -------------------------------------------------------------------------------------------------


class _ExportKms(pe.KmsClient):
    """pyarrow's KMS, played by the export's data key: wraps and unwraps each file's own key."""

    def __init__(self, data_key: DataKey) -> None:
        super().__init__()
        self._data_key = data_key
        self.unwrapped: bytes | None = None

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        wrapped = self._data_key.wrap_file_key(key_bytes, master_key_identifier.encode())
        return base64.b64encode(wrapped).decode()

    # pyarrow wants the key's bytes back; pyarrow-stubs (20) says str.
    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:  # type: ignore[override]
        if master_key_identifier != self._data_key.key_id:
            raise DecryptionFailed(f"the file's key is wrapped by data key {master_key_identifier!r}, not by "
                                   f"{self._data_key.key_id!r}: it belongs to another export or key generation")
        self.unwrapped = self._data_key.unwrap_file_key(base64.b64decode(wrapped_key), master_key_identifier.encode())
        return self.unwrapped


class FileKeys:
    """What pyarrow's modular encryption needs to write and read one export's files: a CryptoFactory whose
    KMS is the export's data key. One per export; not shared between exports (pyarrow caches KMS clients)."""

    def __init__(self, data_key: DataKey, master_key_id: str) -> None:
        self.data_key = data_key
        self.data_key_id = data_key.key_id
        self.master_key_id = master_key_id
        self._kms = _ExportKms(data_key)
        self._factory = pe.CryptoFactory(self._kms_client)
        self._connection = pe.KmsConnectionConfig(kms_instance_id=master_key_id)

    def _kms_client(self, _config: pe.KmsConnectionConfig) -> pe.KmsClient:
        return self._kms

    def encryption_properties(self) -> pq.FileEncryptionProperties:
        # uniform_encryption (pyarrow >= 19) is missing from pyarrow-stubs 20.
        config = pe.EncryptionConfiguration(footer_key=self.data_key_id, uniform_encryption=True,  # type: ignore[call-arg]
                                            double_wrapping=False, internal_key_material=True,
                                            data_key_length_bits=256, plaintext_footer=False)
        return self._factory.file_encryption_properties(self._connection, config)

    def decryption_properties(self) -> pq.FileDecryptionProperties:
        return self._factory.file_decryption_properties(self._connection, pe.DecryptionConfiguration())

    def last_unwrapped(self) -> bytes | None:
        return self._kms.unwrapped


def file_keys(data_key: DataKey, master_key_id: str) -> FileKeys:
    return FileKeys(data_key, master_key_id)


def file_key(data: bytes, keys: FileKeys) -> bytes:
    """The file's own AES key, unwrapped, for readers without a KMS hook (DuckDB's `PRAGMA add_parquet_key`).
    Hand it to the reader only: a stored copy would survive the export key's destruction."""
    own = FileKeys(keys.data_key, keys.master_key_id)  # its own KMS client: `keys` may be reading other files
    _read(data, own, lambda parquet: parquet.metadata)
    key = own.last_unwrapped()
    if key is None:
        raise DecryptionFailed("the file names no key to unwrap")
    return key


# --- encoding ---------------------------------------------------------------------------------------------


def encode_parquet(records: list[dict[str, Any]], *, keys: FileKeys | None = None,
                   row_group_records: int = 100_000) -> bytes:
    """The records as one Parquet file (module docstring: exact, deterministic unless encrypted)."""
    return write_tables([records_table(records)], keys=keys, row_group_records=row_group_records)


def write_tables(tables: list[pa.Table], *, keys: FileKeys | None = None, row_group_records: int = 100_000) -> bytes:
    """Tables of `records_table` as one Parquet file, the same bytes as `encode_parquet` of all their records:
    a caller can convert records as they come and hold them as Arrow (compact), then write once."""
    if row_group_records < 1:
        raise ValueError(f"row_group_records must be >= 1, got {row_group_records}")
    table = pa.concat_tables(tables).combine_chunks() if tables else records_table([])
    sink = pa.BufferOutputStream()
    pq.write_table(
        table, sink, row_group_size=row_group_records, compression="zstd",
        compression_level=COMPRESSION_LEVEL, write_statistics=STATISTICS, write_page_index=True,
        write_page_checksum=True, data_page_version="1.0",  # DuckDB cannot decrypt v2 pages
        encryption_properties=keys.encryption_properties() if keys else None,
    )
    return bytes(sink.getvalue())


def records_table(records: list[dict[str, Any]]) -> pa.Table:
    """The records as an Arrow table of the records schema (UnarchivableRecord for one that cannot be stored
    exactly)."""
    extras, absent, rows = _undocumented(records)
    # Column by column: a loop over records and fields in Python costs three times as much.
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
    arrays = []
    for (name, kind), values in zip(COLUMNS.items(), columns, strict=True):
        stored, misfits = _column(name, kind, values)
        for index in misfits:
            extras[index][name] = _checked(values[index], index, name)
        arrays.append(_array(name, kind, stored))
    arrays.append(pa.array([_json_text(extra, index, "a field in _extra") if extra else None
                            for index, extra in enumerate(extras)], type=_JSON))
    arrays.append(pa.array(absent, type=_JSON))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _undocumented(records: list[Any]) -> tuple[list[dict[str, Any]], list[str | None], list[tuple[Any, ...]]]:
    """Each record's fields that have no column (checked), the documented fields it lacks, in the record's
    and the schema's order, never a set's (string hashes change between processes); and its columns' values."""
    extras: list[dict[str, Any]] = []
    absent: list[str | None] = []
    rows: list[tuple[Any, ...]] = []
    for index, record in enumerate(records):
        if type(record) is not dict:
            raise UnarchivableRecord(f"record {index} is a {type(record).__name__}, not an object")
        complete = record.keys() >= _NAMES
        extra = {}
        if not complete or len(record) > len(_NAMES):
            for key, value in record.items():
                if type(key) is not str:
                    raise UnarchivableRecord(f"record {index} has a field named by a {type(key).__name__}, "
                                             "not a string")
                if key not in COLUMNS:
                    extra[key] = _checked(value, index, "an undocumented field")
        extras.append(extra)
        if complete:
            absent.append(None)
            rows.append(_ROW(record))
        else:
            absent.append(_json_text([name for name in COLUMNS if name not in record], index, ABSENT))
            rows.append(tuple(record.get(name) for name in COLUMNS))
    return extras, absent, rows


def _column(name: str, kind: pa.DataType, values: Sequence[Any]) -> tuple[Sequence[Any], list[int]]:
    """What the column holds for each value, and the indexes of the values it cannot hold exactly."""
    if name == "timestamp":
        millis = [_parse_timestamp(value) for value in values]
        return millis, [index for index, value in enumerate(values)
                        if value is not None and (millis[index] is None or not _CANONICAL_TIMESTAMP.fullmatch(value))]
    if name in _JSON_COLUMNS:
        return [None if value is None else _json_text(_checked(value, index, name), index, name)
                for index, value in enumerate(values)], []
    if kind == _STRING:
        misfits = [index for index, value in enumerate(values) if value is not None and type(value) is not str]
    elif kind == pa.bool_():
        misfits = [index for index, value in enumerate(values) if value is not None and type(value) is not bool]
    else:  # int64 (rating): bool is an int to Python, and would come back as 1 or 0
        misfits = [index for index, value in enumerate(values)
                   if value is not None and not (type(value) is int and _INT64[0] <= value <= _INT64[1])]
    if not misfits:
        return values, misfits
    stored = list(values)
    for index in misfits:
        stored[index] = None
    return stored, misfits


def _array(name: str, kind: pa.DataType, values: Sequence[Any]) -> pa.Array[Any]:
    try:
        return pa.array(values, type=kind)
    except UnicodeEncodeError:
        # A lone surrogate, which UTF-8 cannot carry: JSON can escape one, but msgspec, DuckDB's JSON
        # functions and this pipeline's messages refuse it, so no record reaching here should hold one.
        index = next(i for i, value in enumerate(values) if type(value) is str and not _utf8(value))
        raise UnarchivableRecord(f"record {index}: {name} is not valid Unicode (a lone surrogate)") from None


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _parse_timestamp(value: Any) -> int | None:
    """ISO-8601 in ms since the epoch, truncated; a time without an offset is taken as UTC (Cognigy's)."""
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // _MS
    except (ValueError, OverflowError):
        return None


def conversation_date(record: dict[str, Any]) -> str:
    """The record's Hive partition value: the UTC date of its timestamp (as the `timestamp` column holds it),
    or Hive's default partition when it has none that parses."""
    millis = _parse_timestamp(record.get("timestamp"))
    return DEFAULT_PARTITION if millis is None else (_EPOCH + millis * _MS).date().isoformat()


def _checked(value: Any, index: int, field: str, depth: int = 1) -> Any:
    """`value` itself, once it is known to survive JSON exactly; UnarchivableRecord otherwise."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise UnarchivableRecord(f"record {index}: {field} holds {value!r}, which JSON cannot carry")
    if kind in (str, int, float, bool) or value is None:
        return value
    if depth > MAX_DEPTH:
        raise UnarchivableRecord(f"record {index}: {field} nests deeper than {MAX_DEPTH} levels")
    if kind is list:
        for item in value:
            _checked(item, index, field, depth + 1)
        return value
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise UnarchivableRecord(f"record {index}: {field} has a key that is a {type(key).__name__}, "
                                         "not a string")
            _checked(item, index, field, depth + 1)
        return value
    raise UnarchivableRecord(f"record {index}: {field} holds a {kind.__name__}, which JSON does not have")


def _json_text(value: Any, index: int, field: str) -> str:
    """Compact JSON: the standard library's, which writes ints of any size (msgspec stops at 64 bits) and
    floats that read back equal."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if not text.isascii() and not _utf8(text):
        raise UnarchivableRecord(f"record {index}: {field} holds text that is not valid Unicode (a lone surrogate)")
    return text


# --- decoding ---------------------------------------------------------------------------------------------


def read_records_table(data: bytes, *, keys: FileKeys | None = None) -> pa.Table:
    """The file's records as the Arrow table `records_table` made (errors as `decode_parquet`)."""
    return _read(data, keys, lambda parquet: parquet.read())


def decode_parquet(data: bytes, *, keys: FileKeys | None = None) -> list[dict[str, Any]]:
    """The records `encode_parquet` was given, in order. A damaged or foreign file raises SegmentError;
    an encrypted one without its keys, with the wrong keys, or damaged, DecryptionFailed."""
    table = read_records_table(data, keys=keys)
    try:
        columns = [_decoded_column(name, table.column(name)) for name in COLUMNS]
        records = [dict(zip(COLUMNS, row, strict=True)) for row in zip(*columns, strict=True)]
        extras: list[str | None] = table.column(EXTRA).to_pylist()
        for index, absent in enumerate(table.column(ABSENT).to_pylist()):
            record, extra = records[index], extras[index]
            for name in msgspec.json.decode(absent, type=list[str]) if absent is not None else ():
                record.pop(name, None)
            if extra is not None:
                record.update(msgspec.json.decode(extra, type=dict[str, Any]))
    except msgspec.DecodeError as exc:  # ValidationError too
        raise SegmentError(f"a records file holding JSON that this format does not write: {exc}") from None
    return records


def _decoded_column(name: str, column: pa.ChunkedArray[Any]) -> list[Any]:
    if name == "timestamp":
        # Arrow prints a millisecond timestamp's %S with its three decimals, years padded to four digits;
        # without the time zone, so that no time zone database is needed.
        naive: Any = column.cast(pa.timestamp("ms"))
        printed: list[Any] = pc.strftime(naive, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
        return printed
    values = column.to_pylist()
    if name in _JSON_COLUMNS:
        return [None if value is None else msgspec.json.decode(value) for value in values]
    return values


def _read(data: bytes, keys: FileKeys | None, read: Callable[[pq.ParquetFile], _T]) -> _T:
    """`read` applied to the file, once it is known to be a records file this code reads; every pyarrow
    error turned into ours."""
    ends = data[:4], data[-4:]
    if not set(ends) <= {_PLAIN_MAGIC, _ENCRYPTED_MAGIC}:
        raise (DecryptionFailed if keys else SegmentError)("not a Parquet file")
    encrypted = ends[1] == _ENCRYPTED_MAGIC
    if encrypted and keys is None:
        raise DecryptionFailed("an encrypted Parquet file: reading it needs its export's data key")
    if not encrypted and keys is not None:
        # An encrypted archive holds no plain file: one here was put there by someone else.
        raise DecryptionFailed("not an encrypted Parquet file, in an encrypted archive")
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True,
                                 decryption_properties=keys.decryption_properties() if keys else None)
        _check_schema(parquet.schema_arrow)
        return read(parquet)
    except (pa.ArrowException, OSError) as exc:
        if keys:
            raise DecryptionFailed(f"the file does not decrypt with data key {keys.data_key_id!r} (its bytes "
                                   f"are damaged): {exc}") from None
        raise SegmentError(f"not a readable Parquet file: {exc}") from None


def _check_schema(schema: pa.Schema) -> None:
    metadata = schema.metadata or {}
    version = metadata.get(VERSION_KEY)
    if version is None:
        raise SegmentError("a Parquet file, but not a records file of cognigy-archiver (no schema version)")
    if not version.isdigit() or int(version) > RECORDS_SCHEMA_VERSION:
        raise SegmentError(f"a records file of schema version {version.decode(errors='replace')}; this "
                           f"reader knows versions up to {RECORDS_SCHEMA_VERSION}: upgrade it")
    wrong = [f"{field.name} ({field.type})" for field in SCHEMA if field not in schema]
    if wrong:
        raise SegmentError(f"a records file whose columns differ from its schema version: {', '.join(wrong)}")
