"""Customer data at rest: AES-256-GCM with the deployment's key, each blob bound to where it
belongs; pure, no app."""

from __future__ import annotations

import io
import os

import pytest

from planner.core.encryption import CHUNK, DataKey, UnreadableData


@pytest.fixture
def key() -> DataKey:
    return DataKey(os.urandom(32))


def test_a_blob_opens_with_its_key_and_context_only(key):
    plain = "Иванов Пётр; +7 912 345-67-89; ivanov@example.ru".encode("cp1251")
    blob = key.seal(plain, "migration_upload:1:7:values")
    assert plain not in blob and b"ivanov" not in blob
    assert key.open(blob, "migration_upload:1:7:values") == plain
    with pytest.raises(UnreadableData):
        key.open(blob, "migration_upload:1:8:values")  # copied to another row
    with pytest.raises(UnreadableData):
        DataKey(os.urandom(32)).open(blob, "migration_upload:1:7:values")  # another key
    changed = bytearray(blob)
    changed[-5] ^= 0x01
    with pytest.raises(UnreadableData):
        key.open(bytes(changed), "migration_upload:1:7:values")
    with pytest.raises(UnreadableData):
        key.open(b"plain text", "migration_upload:1:7:values")
    assert key.seal(plain, "x") != key.seal(plain, "x")  # a fresh nonce each time
    assert repr(key) == "DataKey(…)"


def test_a_file_is_sealed_in_pieces_that_open_only_in_order(key):
    data = os.urandom(CHUNK * 2 + 123)
    pieces = list(key.seal_chunks(io.BytesIO(data), "u:1"))
    assert [p for p, _ in pieces] == [0, 1, 2]
    assert b"".join(key.open_chunks(pieces, "u:1")) == data
    swapped = [(0, pieces[1][1]), (1, pieces[0][1]), pieces[2]]
    with pytest.raises(UnreadableData):
        b"".join(key.open_chunks(swapped, "u:1"))
    with pytest.raises(UnreadableData, match="missing"):
        b"".join(key.open_chunks([pieces[0], pieces[2]], "u:1"))
    assert list(key.seal_chunks(io.BytesIO(b""), "u:2")) == []


def test_a_key_is_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        DataKey(b"short")


def test_derived_secrets_differ_by_purpose_and_key_and_stay_the_same_for_both():
    key = DataKey(bytes(range(32)))
    same = DataKey(bytes(range(32)))
    other = DataKey(bytes(range(1, 33)))
    assert key.derive("reconcile") == same.derive("reconcile")
    assert len(key.derive("reconcile")) == 32
    assert key.derive("reconcile") != key.derive("pilot")
    assert key.derive("reconcile") != other.derive("reconcile")
