"""The Parquet record format: an exact round trip read by decode_parquet, pyarrow and DuckDB; determinism;
modular encryption under the export's data key (wrong, destroyed, missing keys; a reader outside the
project); bad input refused with a clear error."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.archive.encryption import DataKey, DecryptionFailed, LocalMasterKey
from shared.archive.keystore import KeyStore
from shared.archive.parquet_records import (
    DEFAULT_PARTITION,
    RECORDS_SCHEMA_VERSION,
    UnarchivableRecord,
    conversation_date,
    decode_parquet,
    encode_parquet,
    file_key,
    file_keys,
)
from shared.archive.storage import FilesystemStore
from shared.errors import DataKeyMissing, PoisonError, SegmentError
from simulator.dataset import generate_dataset

EXPORT_KEY = bytes(range(32))
KEYS = file_keys(DataKey("dk-1", EXPORT_KEY), "m1")

DOCUMENTED = {
    "id": "665f1c2e8b1d4a0012ab34cd", "projectId": "5a91d194fde28b0011ce2422", "projectName": "Support Bot",
    "inputId": "5a91d194fde28b0011ce2424", "sessionId": "session-2a38246e-0395-49a5-876d-dd5133fd5418",
    "contactId": "myContactID", "organisation": "cognigy", "inputText": "I need help with my order",
    "inputData": "{}", "type": "input", "source": "user", "timestamp": "2024-06-04T10:15:02.123Z",
    "flowName": "Main", "flowParentId": "5e33b160e6236da3aa54221461a53f04", "channel": "webchat3",
    "inHandoverRequest": False, "inHandoverConversation": True, "outputId": None, "inputAttachments": None,
    "reference": None, "localeReferenceId": "7eff993c-b801-4556-b111-1c319e8577cf", "endpointUrlToken": "ea30b8f2",
    "endpointName": "Webchat", "snapshotId": "63ff0cc47a466cab278fd19b", "snapshotName": "Bot Release 2.2",
    "rating": -1, "ratingComment": "",
}
NESTED = {"a": [1, 1.0, -0.0, 1e300, 5e-324, "é ☃ 😀", None, True, False, {"b": [], "c": {}}], "big": 2**100,
          "": ""}
RICH: list[dict[str, Any]] = [
    DOCUMENTED,
    {**DOCUMENTED, "inputData": NESTED, "inputAttachments": [{"url": "https://x/y.png", "name": "y", "type": "image"}],
     "rating": 1, "ratingComment": None, "source": "bot", "type": "output", "outputId": "uuid-1"},
    {**DOCUMENTED, "inputAttachments": [{"*****": "*****"}], "inputData": [1, "two"], "inputText": "*****"},
    {"id": "only-an-id"},
    {},
    # Extra fields, including names of this format's own columns, and v2.3's `_id`.
    {"_id": "legacy", "custom1": {"deep": [[[]]]}, "_extra": "collides", "_absent": [1], "timestamp": None},
    # Values of another type than their column's.
    {"id": 42, "rating": 1.0, "inHandoverRequest": 0, "inHandoverConversation": "false", "inputText": ["a"],
     "projectId": {"x": 1}, "inputData": 3.5, "inputAttachments": "a string", "ratingComment": 7},
    {"rating": True, "inputData": None, "inputAttachments": False},
    {"rating": 2**70, "inputData": -(2**80)},
    {"rating": -(2**63), "inputData": 2**63 - 1, "inputText": "ünïcödé 😀"},
    {"rating": 2**63},
    # Timestamps: canonical, parsable but printed otherwise, unparsable, not a string.
    {"timestamp": "2024-06-04T10:15:02Z"},
    {"timestamp": "2024-06-04T12:15:02.123+02:00"},
    {"timestamp": "2024-06-04T10:15:02.123456Z"},
    {"timestamp": "2024-06-04T10:15:02.123"},
    {"timestamp": "0999-01-01T00:00:00.000Z"},
    {"timestamp": "1969-12-31T23:59:59.999Z"},
    {"timestamp": "not a time"},
    {"timestamp": "2024-12-31T23:59:60.000Z"},
    {"timestamp": 1717496102123},
    {"timestamp": ""},
    {"inputText": "", "reference": "", "channel": None},
]


def simulator_records(conversations: int = 300) -> list[dict[str, Any]]:
    return generate_dataset(5, conversations, datetime(2024, 3, 1), days=3).records


def write(tmp_path: Path, data: bytes, name: str = "records.parquet") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def duckdb_records(path: Path, connection: duckdb.DuckDBPyConnection, options: str = "") -> list[dict[str, Any]]:
    """The records rebuilt from DuckDB's rows the way docs/archive-format.md tells a reader to."""
    names = [row[0] for row in connection.sql(f"describe select * from read_parquet('{path}'{options})").fetchall()]
    typed = [name for name in names if name not in ("_extra", "_absent")]
    select = ", ".join(
        "strftime(make_timestamp(epoch_ms(\"timestamp\") * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')" if name == "timestamp"
        else f'"{name}"' for name in typed)
    rows = connection.sql(f"select {select}, _extra, _absent from read_parquet('{path}'{options})").fetchall()
    records = []
    for row in rows:
        record = dict(zip(typed, row[:-2], strict=True))
        for name in ("inputData", "inputAttachments"):
            if record[name] is not None:
                record[name] = json.loads(record[name])
        for name in json.loads(row[-1]) if row[-1] else ():
            del record[name]
        record.update(json.loads(row[-2]) if row[-2] else {})
        records.append(record)
    return records


def test_every_field_and_type_round_trips_exactly() -> None:
    back = decode_parquet(encode_parquet(RICH))
    assert back == RICH
    # == alone would let 1 == 1.0 == True pass: the types must match too.
    assert [[(k, type(v)) for k, v in sorted(r.items())] for r in back] == \
        [[(k, type(v)) for k, v in sorted(r.items())] for r in RICH]
    assert type(back[8]["inputData"]) is int and type(back[6]["rating"]) is float and back[7]["rating"] is True
    assert math.copysign(1, back[1]["inputData"]["a"][2]) == -1


def test_duckdb_and_pyarrow_read_the_typed_schema(tmp_path: Path) -> None:
    path = write(tmp_path, encode_parquet(RICH))
    table = pq.read_table(path)
    types = {field.name: str(field.type) for field in table.schema}
    assert types["timestamp"] == "timestamp[ms, tz=UTC]" and types["rating"] == "int64"
    assert types["inHandoverRequest"] == types["inHandoverConversation"] == "bool"
    assert types["inputData"] == types["inputText"] == types["_extra"] == types["_absent"] == "string"
    assert table.schema.metadata[b"cognigy_archiver.records_schema_version"] == str(RECORDS_SCHEMA_VERSION).encode()
    assert table.schema.metadata[b"cognigy_archiver.written_by"] == b"cognigy-archiver"
    first = table.slice(0, 1).to_pylist()[0]
    assert first["timestamp"] == datetime(2024, 6, 4, 10, 15, 2, 123000, tzinfo=UTC)
    assert first["inHandoverConversation"] is True and first["rating"] == -1 and first["_extra"] is None
    connection = duckdb.connect()
    try:
        described = dict(connection.sql(f"describe select * from read_parquet('{path}')").fetchall()[i][:2]
                         for i in range(len(types)))
        assert described["timestamp"] == "TIMESTAMP WITH TIME ZONE" and described["rating"] == "BIGINT"
        assert described["inHandoverRequest"] == "BOOLEAN" and described["_absent"] == "VARCHAR"
        assert duckdb_records(path, connection) == RICH
        # JSON text is queryable in place.
        assert connection.sql(f"select inputData->>'$.big', _extra->>'$._id' from read_parquet('{path}') "
                              "where inputData->>'$.big' is not null or _extra->>'$._id' is not null").fetchall() \
            == [(str(2**100), None), (None, "legacy")]
    finally:
        connection.close()


def test_simulator_records_round_trip_and_duckdb_prunes_by_timestamp(tmp_path: Path) -> None:
    records = simulator_records()
    data = encode_parquet(records, row_group_records=500)
    assert decode_parquet(data) == records
    path = write(tmp_path, data)
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == math.ceil(len(records) / 500)
    timestamp = metadata.schema.names.index("timestamp")
    text = metadata.schema.names.index("inputText")
    spans = []
    for group in range(metadata.num_row_groups):
        column = metadata.row_group(group).column(timestamp)
        statistics = column.statistics
        assert column.compression == "ZSTD" and column.has_column_index
        assert statistics is not None and statistics.has_min_max
        low, high = statistics.min, statistics.max
        assert isinstance(low, datetime) and isinstance(high, datetime)
        spans.append((low.date().isoformat(), high.date().isoformat()))
        assert metadata.row_group(group).column(text).statistics is None  # free text: no min/max in the footer
    day = "2024-03-02"
    expected = sum(conversation_date(r) == day for r in records)
    assert 0 < expected < len(records)
    # The records come in time order: row groups lie wholly outside the day, and their statistics say so,
    # which is what an engine skips them on.
    assert sum(not low <= day <= high for low, high in spans) >= 2
    connection = duckdb.connect()
    try:
        query = (f"select count(*) from read_parquet('{path}') where \"timestamp\" >= '{day} 00:00:00+00' "
                 f"and \"timestamp\" < '{day} 00:00:00+00'::timestamptz + interval 1 day")
        assert connection.sql(query).fetchall() == [(expected,)]
        assert duckdb_records(path, connection) == records
    finally:
        connection.close()


def test_the_same_records_give_the_same_bytes_in_any_process() -> None:
    records = [*RICH, *simulator_records(20)]
    assert encode_parquet(records) == encode_parquet([dict(r) for r in records])
    # Field order within `_extra` must not follow a set's order, which changes with the hash seed.
    script = ("import hashlib, sys; from tests.shared.test_parquet_records import RICH; "
              "from shared.archive.parquet_records import encode_parquet; "
              "print(hashlib.sha256(encode_parquet(RICH)).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": seed, "PATH": ""}, cwd=Path(__file__).parents[2]).stdout
               for seed in ("1", "2", "3")}
    assert digests == {hashlib.sha256(encode_parquet(RICH)).hexdigest() + "\n"}


def test_an_encrypted_file_reads_only_with_its_export_key() -> None:
    records = [*RICH, *simulator_records(20)]
    data = encode_parquet(records, keys=KEYS)
    assert data[:4] == data[-4:] == b"PARE"
    assert b"Support Bot" not in data and b"myContactID" not in data and b"timestamp" not in data
    assert decode_parquet(data, keys=KEYS) == records
    assert decode_parquet(data, keys=file_keys(DataKey("dk-1", EXPORT_KEY), "m1")) == records
    # pyarrow draws a new key and nonces for every file: a replay does not repeat the bytes.
    assert encode_parquet(records, keys=KEYS) != data
    with pytest.raises(DecryptionFailed, match="needs its export's data key"):
        decode_parquet(data)
    with pytest.raises(DecryptionFailed, match="wrapped by data key 'dk-1', not by 'dk-2'"):
        decode_parquet(data, keys=file_keys(DataKey("dk-2", EXPORT_KEY), "m1"))
    with pytest.raises(DecryptionFailed, match="cannot unwrap this file's key"):
        decode_parquet(data, keys=file_keys(DataKey("dk-1", bytes(32)), "m1"))
    with pytest.raises(DecryptionFailed, match="not an encrypted Parquet file"):
        decode_parquet(encode_parquet(records), keys=KEYS)
    middle = len(data) // 2
    damaged = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:]
    with pytest.raises(DecryptionFailed, match="does not decrypt with data key 'dk-1'"):
        decode_parquet(damaged, keys=KEYS)
    with pytest.raises(DecryptionFailed, match="not a Parquet file"):
        decode_parquet(data[:-1], keys=KEYS)


async def test_destroying_the_export_key_shreds_its_files(tmp_path: Path) -> None:
    master = LocalMasterKey(bytes(range(32)), "m1")
    store = FilesystemStore(tmp_path / "keys")
    data_key = await KeyStore(store, master).data_key("e1", create=True)
    data = encode_parquet(RICH, keys=file_keys(data_key, "m1"))
    assert b'"kmsInstanceID":"m1"' in data and f'"masterKeyID":"{data_key.key_id}"'.encode() in data
    assert decode_parquet(data, keys=file_keys(await KeyStore(store, master).data_key("e1"), "m1")) == RICH
    await KeyStore(store, master).destroy("e1")
    with pytest.raises(DataKeyMissing):
        await KeyStore(store, master).data_key("e1")
    # A new key under the same export's name opens nothing written before.
    new_key = await KeyStore(store, master).data_key("e1", create=True)
    with pytest.raises(DecryptionFailed):
        decode_parquet(data, keys=file_keys(new_key, "m1"))


class ReaderKms(pe.KmsClient):
    """A data-lake reader's KMS client, from docs/archive-format.md alone: nothing of this project."""

    def __init__(self, export_key: bytes) -> None:
        super().__init__()
        info = b"cognigy-archiver/parquet/file-key-wrap/aes-256-gcm/v1"
        self.aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(export_key))

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        raise NotImplementedError("a reader does not write")

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:  # type: ignore[override]
        wrapped = base64.b64decode(wrapped_key)
        return self.aead.decrypt(wrapped[:12], wrapped[12:], master_key_identifier.encode())


def test_pyarrow_and_duckdb_read_an_encrypted_file_with_the_export_key_only(tmp_path: Path) -> None:
    records = simulator_records(30)
    path = write(tmp_path, encode_parquet(records, keys=KEYS))
    factory = pe.CryptoFactory(lambda _config: ReaderKms(EXPORT_KEY))
    properties = factory.file_decryption_properties(pe.KmsConnectionConfig(), pe.DecryptionConfiguration())
    table = pq.read_table(path, decryption_properties=properties)
    assert table.column("id").to_pylist() == [r["id"] for r in records]
    connection = duckdb.connect()
    try:
        key = base64.b64encode(file_key(path.read_bytes(), KEYS)).decode()
        connection.execute(f"pragma add_parquet_key('file', '{key}')")
        assert duckdb_records(path, connection, ", encryption_config = {footer_key: 'file'}") == records
    finally:
        connection.close()


def test_a_damaged_or_foreign_plain_file_is_a_segment_error(tmp_path: Path) -> None:
    data = encode_parquet(simulator_records(20))
    middle = len(data) // 3
    with pytest.raises(SegmentError, match="not a readable Parquet file"):
        decode_parquet(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    with pytest.raises(SegmentError, match="not a Parquet file"):
        decode_parquet(b'{"id": "x"}\n')
    with pytest.raises(SegmentError, match="not a readable Parquet file"):
        decode_parquet(b"PAR1" + bytes(100) + b"PAR1")
    foreign = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ["x"]}), foreign)
    with pytest.raises(SegmentError, match="no schema version"):
        decode_parquet(bytes(foreign.getvalue()))
    newer = pa.BufferOutputStream()
    table = pq.read_table(pa.BufferReader(data))
    pq.write_table(table.replace_schema_metadata({b"cognigy_archiver.records_schema_version": b"2"}), newer)
    with pytest.raises(SegmentError, match="schema version 2; this reader knows versions up to 1"):
        decode_parquet(bytes(newer.getvalue()))
    retyped = pa.BufferOutputStream()
    pq.write_table(table.set_column(table.schema.get_field_index("rating"), "rating",
                                    table.column("rating").cast(pa.string())), retyped)
    with pytest.raises(SegmentError, match=r"columns differ from its schema version: rating \(int64\)"):
        decode_parquet(bytes(retyped.getvalue()))
    for column, text in (("_extra", "[1]"), ("_absent", '{"a": 1}'), ("inputData", "{not json")):
        crafted = pa.BufferOutputStream()
        index = table.schema.get_field_index(column)
        pq.write_table(table.set_column(index, table.schema.field(index), pa.array([text] * len(table))), crafted)
        with pytest.raises(SegmentError, match="JSON that this format does not write"):
            decode_parquet(bytes(crafted.getvalue()))


@pytest.mark.parametrize(("records", "message"), [
    ([["not", "an", "object"]], "record 0 is a list, not an object"),
    ([{}, {1: "x"}], "record 1 has a field named by a int"),
    ([{"inputData": {"a": {2: "x"}}}], "record 0: inputData has a key that is a int"),
    ([{"rating": math.nan}], "record 0: rating holds nan, which JSON cannot carry"),
    ([{"custom": [math.inf]}], "record 0: an undocumented field holds inf"),
    ([{"inputData": (1, 2)}], "inputData holds a tuple, which JSON does not have"),
    ([{"id": b"bytes"}], "id holds a bytes"),
    ([{"timestamp": datetime(2024, 1, 1, tzinfo=UTC)}], "timestamp holds a datetime"),
    ([{"inputText": "ok"}, {"inputText": "a lone \udc00 surrogate"}], "record 1: inputText is not valid Unicode"),
    ([{"inputData": {"x": ["\ud800"]}}], "record 0: inputData holds text that is not valid Unicode"),
    ([{"custom": "\ud800"}], "record 0: a field in _extra holds text that is not valid Unicode"),
    ([{"rating": "\ud800"}], "record 0: a field in _extra holds text that is not valid Unicode"),
])
def test_what_cannot_be_stored_exactly_is_refused(records: list[Any], message: str) -> None:
    with pytest.raises(UnarchivableRecord, match=message) as caught:
        encode_parquet(records)
    assert isinstance(caught.value, PoisonError) and caught.value.code == "unarchivable_record"


def test_nesting_deeper_than_the_limit_is_refused_not_a_recursion_error() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(UnarchivableRecord, match="nests deeper than 64 levels"):
        encode_parquet([{"inputData": deep}])
    with pytest.raises(ValueError, match="row_group_records"):
        encode_parquet([], row_group_records=0)
    assert decode_parquet(encode_parquet([])) == []


def test_conversation_date_is_the_utc_date_of_the_timestamp_column() -> None:
    assert conversation_date(DOCUMENTED) == "2024-06-04"
    assert conversation_date({"timestamp": "2024-06-05T01:00:00.000+02:00"}) == "2024-06-04"
    assert conversation_date({"timestamp": "1969-12-31T23:59:59.999Z"}) == "1969-12-31"
    assert conversation_date({"timestamp": "2024-06-04T23:59:59.999"}) == "2024-06-04"
    for record in ({}, {"timestamp": None}, {"timestamp": "soon"}, {"timestamp": 1717496102123}):
        assert conversation_date(record) == DEFAULT_PARTITION
