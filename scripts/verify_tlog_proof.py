#!/usr/bin/env python3
"""Independent check of a Malpro Ledger proof bundle, written from docs/transparency.md alone.

Checks an inclusion bundle (c2sp.org/tlog-proof@v1: that events are in the log a signed
checkpoint signs, section 6.1 and 6.2) or a consistency bundle (malpro.tlog-consistency@v1:
that the newer checkpoint's log extends the older one's, section 6.3, RFC 9162 2.1.4.2), each
checkpoint a C2SP signed note checked with the log's verifier key (section 5.2).

Usage: verify_tlog_proof.py FILE KEY [--witness WKEY ...] [--witnesses-required N]
  FILE  the .tlog-proof file (GET /v1/orders/{id}/proof, GET /tlog/proof/consistency, ...)
  KEY   the log's verifier key NAME+KEYID+BASE64, or a file holding it
        (e.g. config/trial-keys/checkpoint.vkey); refused when its ID does not match it
  WKEY  a witness's verifier key (type 4, section 8.1), text or file; the (newer) checkpoint
        must carry valid cosignatures of N of them (default: all given), section 8.5

Prints "OK: ..." lines and exits 0 when the bundle verifies, or "FAILED: why" and exits 1; exits
2 on a usage error, an unreadable file or key, or no usable `openssl`. Python 3 standard
library and the `openssl` command (for Ed25519) only.
"""
import argparse
import base64
import binascii
import collections
import hashlib
import os
import re
import subprocess
import sys
import tempfile

INCLUSION_HEADER = b"c2sp.org/tlog-proof@v1"
CONSISTENCY_HEADER = b"malpro.tlog-consistency@v1"
SIGNATURE_START = "\u2014 ".encode("utf-8")  # U+2014 EM DASH and a space: E2 80 94 20
ED25519_TYPE = b"\x01"  # signed-note's signature type for Ed25519
COSIGNATURE_TYPE = b"\x04"  # tlog-cosignature's type for Ed25519 cosignature/v1
ED25519_DER_HEADER = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo prefix
ORIGIN = re.compile(rb"[!-*,-~]{1,255}")  # printable ASCII without spaces or '+'
EVENTS_MAX = 64
# A verifier key: its name, 4-byte key ID and 32-byte Ed25519 key, and how it is written.
Key = collections.namedtuple("Key", "name key_id public_key text")


class Failed(Exception):
    """The bundle does not verify: exit 1."""


class UsageError(Exception):
    """Bad arguments, an unreadable file, an invalid key, no usable openssl: exit 2."""


def sha256(data):
    return hashlib.sha256(data).digest()


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def decode_base64(text, what, size=None, error=Failed):
    """Strict RFC 4648 base64 with padding (canonical), of `size` bytes when given."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not base64") from None
    if base64.b64encode(data) != text or (size is not None and len(data) != size):
        raise error(f"{what} is not the base64 of {size or 'some'} bytes")
    return data


def read_verifier_key(key, key_type=ED25519_TYPE):
    """Section 5.2: NAME+KEYID+BASE64(type || 32-byte key), given as text or in a file; the type
    is 0x01 for a log's key, 0x04 for a witness's (section 8.1)."""
    text = key
    if os.path.isfile(key):
        with open(key, encoding="utf-8", errors="replace") as file:
            text = file.read().strip()
    parts = text.split("+", 2)  # the base64 may hold '+', the name and the key ID may not
    if len(parts) != 3 or not re.fullmatch(r"[^\x00-\x20\x7f]+", parts[0]) \
            or not re.fullmatch(r"[0-9a-fA-F]{8}", parts[1]):
        raise UsageError(f"the key {text!r} is not a verifier key NAME+KEYID+BASE64")
    encoded = decode_base64(parts[2].encode(), f"the key part of {text!r}", 33, UsageError)
    if encoded[:1] != key_type:
        raise UsageError(f"the key {text!r} is not of type {key_type[0]}")
    name, key_id, public_key = parts[0], bytes.fromhex(parts[1]), encoded[1:]
    if sha256(name.encode() + b"\n" + key_type + public_key)[:4] != key_id:
        raise UsageError(f"the key {text!r}: its key ID does not match its name and key")
    return Key(name, key_id, public_key, f"{name}+{parts[1].lower()}+{parts[2]}")


def ed25519_verifies(public_key, message, signature):
    """Ed25519 (pure, RFC 8032) through `openssl pkeyutl -verify -rawin`."""
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(ED25519_DER_HEADER + public_key) \
        + b"\n-----END PUBLIC KEY-----\n"
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, name) for name in ("key.pem", "message", "signature")]
        for path, data in zip(paths, (pem, message, signature)):
            with open(path, "wb") as file:
                file.write(data)
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths[0], "-rawin",
                   "-in", paths[1], "-sigfile", paths[2]]
        try:
            run = subprocess.run(command, capture_output=True, check=False)
        except OSError as error:
            raise UsageError(f"cannot run openssl: {error}") from None
    if run.returncode != 0 and b"Signature Verification Failure" not in run.stdout:
        raise UsageError("openssl could not check an Ed25519 signature: "
                         + run.stderr.decode(errors="replace").strip()[:300])
    return run.returncode == 0


def check_checkpoint(note, key, which):
    """Sections 5.1 and 5.2: verify the signed note's signature by `key` (its name and key ID
    both matching) and return the checkpoint's (origin, size, root)."""
    split = note.find(b"\n\n")
    if split < 0 or not note.endswith(b"\n") or split + 2 == len(note):
        raise Failed(f"{which} is not a signed note: text, an empty line, signature lines")
    text = note[:split + 1]
    signed = False
    for line in note[split + 2:-1].split(b"\n"):
        if not line.startswith(SIGNATURE_START) or line.count(b" ") != 2:
            raise Failed(f"{which} has a line that is not '\u2014 NAME SIGNATURE'")
        line_name, encoded = line[len(SIGNATURE_START):].split(b" ")
        signature = decode_base64(encoded, f"a signature of {which}")
        if line_name != key.name.encode() or signature[:4] != key.key_id:
            continue  # another signer's, or another key of this name
        if len(signature) != 68 or not ed25519_verifies(key.public_key, text, signature[4:]):
            raise Failed(f"{which}: the signature of {key.text} does not verify")
        signed = True
    if not signed:
        raise Failed(f"{which} has no signature by {key.text}")
    lines = text[:-1].split(b"\n")  # extension lines after the root are ignored (C2SP)
    if len(lines) < 3 or not ORIGIN.fullmatch(lines[0]) \
            or not re.fullmatch(rb"0|[1-9][0-9]*", lines[1]) or b"" in lines[3:]:
        raise Failed(f"{which} is not a checkpoint: origin, decimal size, root")
    return lines[0].decode(), int(lines[1]), decode_base64(lines[2], f"the root of {which}", 32)


def cosigned_by(note, witness):
    """Section 8.1: whether the note carries a cosignature by `witness` that verifies."""
    split = note.find(b"\n\n")
    text = note[:split + 1]
    for line in note[split + 2:-1].split(b"\n"):
        line_name, _, encoded = line[len(SIGNATURE_START):].partition(b" ")
        if line_name != witness.name.encode():
            continue
        try:
            signature = decode_base64(encoded, "a cosignature")
        except Failed:
            continue
        if signature[:4] != witness.key_id or len(signature) != 76:
            continue
        time = int.from_bytes(signature[4:12], "big")
        message = b"cosignature/v1\ntime %d\n" % time + text
        if time < 2 ** 63 and ed25519_verifies(witness.public_key, message, signature[12:]):
            return True
    return False


def check_cosignatures(note, witnesses, required):
    """Section 8.5: at least `required` of `witnesses` cosigned the note. Returns the OK line."""
    names = [witness.name for witness in witnesses if cosigned_by(note, witness)]
    said = (f"the checkpoint is cosigned by {len(names)} of the {len(witnesses)} witnesses "
            f"trusted" + (f" ({', '.join(names)})" if names else "") + f"; {required} required")
    if len(names) < required:
        raise Failed(said)
    return "OK: " + said


def parse_hashes(lines):
    return [decode_base64(line, f"proof hash {number}", 32) for number, line in enumerate(lines, 1)]


def parse_inclusion(head):
    """Section 6.1, step 1: the extra line, 1 to 64 increasing index lines, proof lines."""
    if not head or not head[0].startswith(b"extra "):
        raise Failed("line 2 is not 'extra BASE64'")
    extra = decode_base64(head[0][len(b"extra "):], "the extra data")
    indices = []
    for line in head[1:]:
        if not line.startswith(b"index "):
            break
        number = line[len(b"index "):]
        if not re.fullmatch(rb"0|[1-9][0-9]*", number) or (indices and int(number) <= indices[-1]):
            raise Failed(f"'{line.decode(errors='replace')}': indices are decimals without "
                         "leading zeros, each above the one before")
        indices.append(int(number))
    if not 1 <= len(indices) <= EVENTS_MAX:
        raise Failed(f"it needs 1 to {EVENTS_MAX} index lines, not {len(indices)}")
    if len(extra) != 32 * len(indices):
        raise Failed("its extra data is not the 32-byte hash of each indexed event")
    event_hashes = [extra[i:i + 32] for i in range(0, len(extra), 32)]
    return indices, event_hashes, parse_hashes(head[1 + len(indices):])


def split_notes(notes):
    """Section 6.3: the newer checkpoint starts after the older one's signature lines."""
    at = start = notes.find(b"\n\n") + 2
    while start > 1 and notes.startswith(SIGNATURE_START, at):
        at = notes.find(b"\n", at) + 1
    if start < 2 or at == start or at >= len(notes):
        raise Failed("it needs two signed checkpoints after the empty line")
    return notes[:at], notes[at:]


def multi_leaf_root(begin, end, leaves, proof):
    """Section 6.2: the root of leaves [begin, end); `leaves`, the (index, leaf hash) in it."""
    if end - begin == 1:
        return leaves[0][1]
    middle = begin + (1 << ((end - begin - 1).bit_length() - 1))  # largest power of 2 below
    left = [leaf for leaf in leaves if leaf[0] < middle]
    right = [leaf for leaf in leaves if leaf[0] >= middle]
    if left and right:
        return node_hash(multi_leaf_root(begin, middle, left, proof),
                         multi_leaf_root(middle, end, right, proof))
    if left:
        x = multi_leaf_root(begin, middle, left, proof)
        return node_hash(x, next_proof_hash(proof))
    y = multi_leaf_root(middle, end, right, proof)
    return node_hash(next_proof_hash(proof), y)


def next_proof_hash(proof):
    for hash_ in proof:
        return hash_
    raise Failed("the proof does not verify: it has too few hashes")


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162, section 2.1.4.2, from the older tree to the newer."""
    if old_size == 0 or old_size > new_size:
        raise Failed(f"the older checkpoint's size {old_size} is not 1 to the newer's {new_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise Failed("two checkpoints of one size need one root and an empty proof")
        return
    if not proof:
        raise Failed("the consistency proof is empty")
    path = ([old_root] if old_size & (old_size - 1) == 0 else []) + proof
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failed("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed("the consistency proof is shorter than the tree is deep")
    if fr != old_root or sr != new_root:
        which = "older" if fr != old_root else "newer"
        raise Failed(f"the consistency proof leads to another root of the {which} checkpoint")


def check_inclusion(head, note, key, quorum):
    """Section 6.1, steps 1 to 3. Returns the OK lines."""
    indices, event_hashes, proof = parse_inclusion(head)
    origin, size, root = check_checkpoint(note, key, "the checkpoint")
    cosigned = [check_cosignatures(note, *quorum)] if quorum[0] else []
    if indices[-1] >= size:
        raise Failed(f"index {indices[-1]} is not below the checkpoint's size {size}")
    hashes = iter(proof)
    leaves = [(index, sha256(b"\x00" + h)) for index, h in zip(indices, event_hashes)]
    computed = multi_leaf_root(0, size, leaves, hashes)
    if next(hashes, None) is not None:
        raise Failed("the proof does not verify: it has hashes left over")
    if computed != root:
        raise Failed(f"the proof does not verify: it gives the root {computed.hex()}, the "
                     f"checkpoint signs {root.hex()}")
    return cosigned + [f"OK: event {index + 1} (hash {h.hex()}) is in the log"
                       for index, h in zip(indices, event_hashes)] + [
        f"OK: the log {origin} of {size} events (root {root.hex()}) holds them, as its "
        f"checkpoint signed by {key.text} says"]


def check_consistency(head, notes, key, quorum):
    """Section 6.3. Returns the OK lines."""
    proof = parse_hashes(head)
    older_note, newer_note = split_notes(notes)
    old_origin, old_size, old_root = check_checkpoint(older_note, key, "the older checkpoint")
    origin, size, root = check_checkpoint(newer_note, key, "the newer checkpoint")
    cosigned = [check_cosignatures(newer_note, *quorum)] if quorum[0] else []
    if old_origin != origin:
        raise Failed(f"the two checkpoints are of different origins ({old_origin}, {origin})")
    verify_consistency(old_size, size, old_root, root, proof)
    return cosigned + [f"OK: the log {origin} of {size} events (root {root.hex()}) extends its log of "
            f"{old_size} events (root {old_root.hex()}); both checkpoints signed by "
            f"{key.text}"]


def check_bundle(data, key, quorum=((), 0)):
    """Splits the bundle at its empty line and checks it by the kind its first line names."""
    head, empty, notes = data.partition(b"\n\n")
    if not data.endswith(b"\n") or not empty:
        raise Failed("it is not a proof bundle: lines, an empty line, then signed checkpoints")
    head = head.split(b"\n")
    if head[0] == INCLUSION_HEADER:
        return check_inclusion(head[1:], notes, key, quorum)
    if head[0] == CONSISTENCY_HEADER:
        return check_consistency(head[1:], notes, key, quorum)
    raise Failed(f"it is not a proof bundle: its first line is neither "
                 f"{INCLUSION_HEADER.decode()} nor {CONSISTENCY_HEADER.decode()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the .tlog-proof file")
    parser.add_argument("key", help="the verifier key NAME+KEYID+BASE64, or a file holding it")
    parser.add_argument("--witness", action="append", default=[],
                        help="a witness's verifier key (type 4), text or file; repeatable")
    parser.add_argument("--witnesses-required", type=int, default=None,
                        help="cosignatures of those witnesses required (default: all given)")
    args = parser.parse_args()
    try:
        key = read_verifier_key(args.key)
        witnesses = [read_verifier_key(w, COSIGNATURE_TYPE) for w in args.witness]
        required = len(witnesses) if args.witnesses_required is None else args.witnesses_required
        if not 0 <= required <= len(witnesses):
            raise UsageError(f"--witnesses-required {required} is not 0 to the "
                             f"{len(witnesses)} witness keys given")
        with open(args.file, "rb") as file:
            print("\n".join(check_bundle(file.read(), key, (witnesses, required))))
        return 0
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    except (UsageError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
