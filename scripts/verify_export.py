#!/usr/bin/env python3
"""Reference check of a Malpro Ledger export, independent of the Malpro code.

Reads the JSON Lines written by `malpro audit export` (docs/event-log-format.md, section 9),
rebuilds each event's canonical bytes in the layout of its format version as
docs/event-log-format.md specifies (section 2), and recomputes the hash chain:

    hash_0 = 32 zero bytes
    hash_n = SHA-256(hash_{n-1} || canonical bytes of event n)

Usage: verify_export.py EXPORT.jsonl [--anchor HEX] [--expect-head HEX]
  --anchor       the hash of the event before the export's first one (default: 32 zero
                 bytes, for an export that starts at sequence 1)
  --expect-head  a head hash recorded elsewhere; the last event's hash must equal it

A line without "format_version" (written before the member existed) is format version 1; a
version this script does not know fails the check.

Prints "OK <events> <last sequence> <head hash>" and exits 0, or "FAILED at sequence N: why"
and exits 1. Python 3 standard library only.
"""
import argparse
import hashlib
import json
import struct
import sys

def canonical_bytes_v1(event):
    """The canonical encoding of format version 1: big-endian integers, length-prefixed text."""
    def text16(value):
        data = value.encode("utf-8")
        if len(data) > 0xFFFF:
            raise ValueError("field longer than 65535 bytes")
        return struct.pack(">H", len(data)) + data

    payload = event["payload"].encode("utf-8")
    return (
        struct.pack(">B", 1)
        + struct.pack(">Q", event["sequence"])
        + struct.pack(">Q", event["stream_version"])
        + struct.pack(">q", event["recorded_at_us"])
        + text16(event["stream_id"])
        + text16(event["type"])
        + text16(event["actor"])
        + text16(event["idempotency_key"])
        + struct.pack(">I", len(payload))
        + payload
    )


# The canonical encoding of each format version this script knows, by version.
CANONICAL_BYTES = {1: canonical_bytes_v1}


class UnknownFormatVersion(Exception):
    pass


def canonical_bytes(event):
    """The canonical bytes of `event` in the layout of its format version."""
    version = event.get("format_version", 1)
    if type(version) is not int or version not in CANONICAL_BYTES:
        raise UnknownFormatVersion(version)
    return CANONICAL_BYTES[version](event)


def verify(lines, anchor, expect_head):
    previous = anchor
    expected_sequence = None
    count = 0
    last_sequence = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            sequence = event["sequence"]
            if expected_sequence is not None and sequence != expected_sequence:
                return False, f"FAILED at sequence {expected_sequence}: missing (line {number} holds {sequence})"
            if bytes.fromhex(event["previous_hash"]) != previous:
                return False, f"FAILED at sequence {sequence}: previous hash does not link"
            computed = hashlib.sha256(previous + canonical_bytes(event)).digest()
            if computed != bytes.fromhex(event["hash"]):
                return False, f"FAILED at sequence {sequence}: content does not match its hash"
        except UnknownFormatVersion as error:
            return False, f"FAILED at sequence {sequence}: unknown envelope format version {error}"
        except (KeyError, ValueError, TypeError, json.JSONDecodeError) as error:
            return False, f"FAILED at line {number}: malformed export line ({error})"
        previous = computed
        expected_sequence = sequence + 1
        last_sequence = sequence
        count += 1
    if expect_head is not None and previous != expect_head:
        return False, f"FAILED at sequence {last_sequence}: head hash differs from the expected one"
    return True, f"OK {count} {last_sequence} {previous.hex()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("--anchor", default="00" * 32)
    parser.add_argument("--expect-head")
    args = parser.parse_args()
    anchor = bytes.fromhex(args.anchor)
    expect_head = bytes.fromhex(args.expect_head) if args.expect_head else None
    with open(args.export, encoding="utf-8") as export:
        ok, message = verify(export, anchor, expect_head)
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
