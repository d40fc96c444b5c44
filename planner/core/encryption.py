"""Customer data at rest: encrypted with the deployment's key (``PLANNER_DATA_KEY``), so that a
database dump without the key reveals no customer.

AES-256-GCM from the ``cryptography`` package (an authenticated cipher: a changed byte is
refused, not decrypted into something else). Each blob is ``version (1 byte) ‖ nonce (12
bytes) ‖ ciphertext and tag``, with a fresh random nonce. The caller names what the blob is
(``context``: e.g. "migration_upload:7:chunk:3") and the name is bound to it as associated
data, so a blob copied to another row or another position does not decrypt there.

Large files are kept as a sequence of such blobs (:func:`seal_chunks` / :func:`open_chunks`),
each at most ``CHUNK`` bytes of plain text, so that neither encrypting nor decrypting holds a
whole file in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE = 12
CHUNK = 1024 * 1024


class UnreadableData(RuntimeError):
    """A blob that does not decrypt with this key and context: another key, another place, or
    changed bytes."""


class DataKey:
    """The deployment's data key; build it with :func:`from_config`."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a data key is 32 bytes")
        self._aead = AESGCM(key)
        self._derived = hmac.new(key, b"planner derived keys", hashlib.sha256).digest()

    def derive(self, purpose: str) -> bytes:
        """A 32-byte secret for ``purpose`` (an HMAC of it under a key derived from the data
        key): ids that must not be traced back to a customer's value by trying them all."""
        return hmac.new(self._derived, purpose.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:  # never the key itself
        return "DataKey(…)"

    def seal(self, plain: bytes, context: str) -> bytes:
        """``plain`` encrypted and bound to ``context``."""
        nonce = os.urandom(NONCE)
        return VERSION + nonce + self._aead.encrypt(nonce, plain, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        """The plain text of ``blob``; UnreadableData if it was not sealed with this key for
        this ``context``, or was changed."""
        if len(blob) < 1 + NONCE + 16 or blob[:1] != VERSION:
            raise UnreadableData(f"not a sealed blob ({context})")
        try:
            return self._aead.decrypt(blob[1 : 1 + NONCE], blob[1 + NONCE :], context.encode())
        except InvalidTag as exc:
            raise UnreadableData(f"the blob does not decrypt here ({context})") from exc

    def seal_chunks(self, stream: BinaryIO, context: str) -> Iterator[tuple[int, bytes]]:
        """``stream`` read ``CHUNK`` bytes at a time, each piece sealed for ``context`` and its
        position: (position, blob) from 0."""
        position = 0
        while piece := stream.read(CHUNK):
            yield position, self.seal(piece, f"{context}:chunk:{position}")
            position += 1

    def open_chunks(self, blobs: Iterable[tuple[int, bytes]], context: str) -> Iterator[bytes]:
        """The plain pieces of ``blobs`` (position, blob), which must come in order from 0;
        UnreadableData for a missing, repeated or moved piece."""
        for expected, (position, blob) in enumerate(blobs):
            if position != expected:
                raise UnreadableData(f"piece {expected} of {context} is missing")
            yield self.open(blob, f"{context}:chunk:{position}")


def from_config(config: dict) -> DataKey:
    """The key of the app's settings (``DATA_KEY``, checked when the app starts)."""
    return DataKey(base64.urlsafe_b64decode(config["DATA_KEY"].encode()))
