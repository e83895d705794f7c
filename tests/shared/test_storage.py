"""Both storage backends against the same contract: the filesystem, and S3 through a real S3 HTTP server
(moto) with a proxy that fails uploads halfway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.archive.storage import (
    FilesystemStore,
    InvalidObjectKey,
    ObjectMissing,
    ObjectStore,
    StorageError,
    export_folders,
)
from tests.s3_server import SECRET_KEY, FaultyProxy, connect, s3_bucket, s3_endpoint, s3_proxy  # noqa: F401


@pytest.fixture(params=["filesystem", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "filesystem":
        yield FilesystemStore(tmp_path / "archive")
        return
    s3 = await connect(request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket"))
    try:
        yield s3
    finally:
        await s3.close()


async def test_objects_round_trip_and_list_sorted(store: ObjectStore) -> None:
    await store.put("e1/segments/b.zst", b"bbb")
    await store.put("e1/segments/a.zst", b"aaa")
    await store.put("e1/manifest.json", b"{}")
    await store.put("e2/manifest.json", b"{}")
    assert await store.get("e1/segments/a.zst") == b"aaa"
    assert await store.keys("e1") == ["e1/manifest.json", "e1/segments/a.zst", "e1/segments/b.zst"]
    assert await store.keys("e1/segments") == ["e1/segments/a.zst", "e1/segments/b.zst"]
    assert await store.folders() == ["e1", "e2"]
    assert await store.exists("e1/manifest.json") and not await store.exists("e1/nothing")


async def test_walks_over_exports_see_only_folders_named_as_exports(store: ObjectStore) -> None:
    # Expiry and subject search walk every folder: one named by someone else must not stop them.
    for folder in ("e1", "@audit", "not an export", "x" * 65, "e2"):
        await store.put(f"{folder}/manifest.json", b"{}")
    assert await export_folders(store) == ["e1", "e2"]


async def test_a_rewrite_replaces_the_object_whole(store: ObjectStore) -> None:
    await store.put("e/segments/x.zst", b"first version")
    await store.put("e/segments/x.zst", b"second")
    assert await store.get("e/segments/x.zst") == b"second"
    assert await store.keys("e") == ["e/segments/x.zst"]


async def test_put_if_absent_has_exactly_one_winner(store: ObjectStore) -> None:
    outcomes = await asyncio.gather(*(store.put_if_absent("e/keys/data-key.json", f"writer {i}".encode())
                                      for i in range(8)))
    assert outcomes.count(True) == 1
    assert await store.get("e/keys/data-key.json") == f"writer {outcomes.index(True)}".encode()
    assert not await store.put_if_absent("e/keys/data-key.json", b"late")
    assert await store.keys("e") == ["e/keys/data-key.json"]


async def test_ranges_read_part_of_an_object(store: ObjectStore) -> None:
    await store.put("e/index", bytes(range(100)))
    assert await store.get_range("e/index", 10, 5) == bytes(range(10, 15))
    assert await store.get_range("e/index", 95, 50) == bytes(range(95, 100))
    with pytest.raises(ObjectMissing):
        await store.get_range("e/none", 0, 4)


async def test_missing_objects_and_bad_keys_are_named(store: ObjectStore) -> None:
    with pytest.raises(ObjectMissing, match="e/none"):
        await store.get("e/none")
    for bad in ("/abs", "a/../b", ""):
        with pytest.raises(InvalidObjectKey, match="invalid object key"):
            await store.put(bad, b"x")


async def test_delete_removes_only_the_named_objects(store: ObjectStore) -> None:
    for key in ("e/a", "e/b", "f/a"):
        await store.put(key, key.encode())
    await store.delete(["e/a", "e/b", "e/never-there"])
    assert await store.keys("e") == []
    assert await store.folders() == ["f"]
    assert await store.get("f/a") == b"f/a"


async def test_s3_server_error_in_the_middle_of_an_upload_stores_nothing(s3_proxy: FaultyProxy,  # noqa: F811
                                                                          s3_bucket: str) -> None:  # noqa: F811
    store = await connect(s3_proxy.url, s3_bucket, max_attempts=2)
    try:
        s3_proxy.fail_puts, s3_proxy.match = 2, "segments"  # both of botocore's attempts fail halfway
        segment = bytes(range(256)) * 4096  # 1 MiB
        with pytest.raises(StorageError, match=r"cannot write s3://.*/archive/e/segments/s\.zst: InternalError"):
            await store.put("e/segments/s.zst", segment)
        assert s3_proxy.failed == 2
        assert not await store.exists("e/segments/s.zst")  # S3 never shows a partial object
        await store.put("e/segments/s.zst", segment)  # the store is back: the retry lands whole
        assert await store.get("e/segments/s.zst") == segment
    finally:
        await store.close()


async def test_s3_retries_a_dropped_connection_by_itself(s3_proxy: FaultyProxy, s3_bucket: str) -> None:  # noqa: F811
    store = await connect(s3_proxy.url, s3_bucket, max_attempts=3)
    try:
        s3_proxy.fail_puts, s3_proxy.match, s3_proxy.drop_connection = 1, "segments", True
        await store.put("e/segments/s.zst", b"x" * 100_000)
        assert s3_proxy.failed == 1 and await store.get("e/segments/s.zst") == b"x" * 100_000
    finally:
        await store.close()


async def test_s3_errors_never_show_the_secret(s3_endpoint: str, s3_bucket: str) -> None:  # noqa: F811
    store = await connect(s3_endpoint, "no-such-bucket")
    try:
        with pytest.raises(StorageError) as error:
            await store.put("e/x", b"x")
        assert "NoSuchBucket" in error.value.message and SECRET_KEY not in str(error.value)
    finally:
        await store.close()


async def test_filesystem_leaves_no_trace_and_sweeps_what_a_crash_left(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    await store.put("e/segments/a.zst", b"a")
    await store.delete(["e/segments/a.zst"])
    assert [p.name for p in tmp_path.iterdir()] == [".incoming"]  # empty folders are gone
    assert list((tmp_path / ".incoming").iterdir()) == []
    (tmp_path / ".incoming" / "killed-mid-write.tmp").write_bytes(b"half")
    assert await store.sweep_incoming(older_than_seconds=3600) == 0  # might be a live writer's
    assert await store.sweep_incoming(older_than_seconds=-1) == 1
