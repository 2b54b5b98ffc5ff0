#!/usr/bin/env python3
"""Independent check of a Malpro Ledger proof bundle, written from docs/transparency.md alone.

A proof bundle (docs/transparency.md, section 6) is either
  - an inclusion bundle (c2sp.org/tlog-proof@v1): events' hashes, their leaf indices and the
    multi-leaf proof (section 6.2) that they are in the log a signed checkpoint signs; or
  - a consistency bundle (malpro.tlog-consistency@v1): RFC 9162's consistency proof that the
    log of the newer signed checkpoint extends the log of the older one.
Checkpoints are C2SP signed notes (section 5.2), checked with the log's verifier key
NAME+KEYID+BASE64, whose key ID must match its name and key.

Usage: verify_tlog_proof.py FILE KEY
  FILE  the .tlog-proof file (GET /v1/orders/{id}/proof, GET /tlog/proof/consistency, ...)
  KEY   the log's verifier key, NAME+KEYID+BASE64, or a file holding it
        (e.g. config/trial-keys/checkpoint.vkey)

Prints "OK: ..." lines and exits 0 when the bundle verifies, prints "FAILED: why" and exits 1
when it does not, and exits 2 on a usage error, an unreadable file or key, an invalid key, or
no usable `openssl`. Python 3 standard library and the `openssl` command (Ed25519) only.
"""
import argparse
import base64
import binascii
import hashlib
import os
import subprocess
import sys
import tempfile

INCLUSION_HEADER = b"c2sp.org/tlog-proof@v1"
CONSISTENCY_HEADER = b"malpro.tlog-consistency@v1"
SIGNATURE_START = "\u2014 ".encode("utf-8")  # U+2014 EM DASH and a space: E2 80 94 20
ED25519_TYPE = b"\x01"  # signed-note's signature type for Ed25519
ED25519_DER_HEADER = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo prefix
EVENTS_MAX = 64


class Failed(Exception):
    """The bundle does not verify: exit 1."""


class UsageError(Exception):
    """Bad arguments, an unreadable file, an invalid key, no openssl: exit 2."""


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(event_hash):
    return sha256(b"\x00" + event_hash)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def decode_base64(text, what, size=None):
    """Strict RFC 4648 base64 with padding, of `size` bytes when given."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Failed(f"{what} is not base64") from None
    if base64.b64encode(data) != text or (size is not None and len(data) != size):
        raise Failed(f"{what} is not the base64 of {size or 'some'} bytes")
    return data


def read_verifier_key(key):
    """Section 5.2: NAME+KEYID+BASE64(0x01 || 32-byte key), given as text or in a file."""
    text = key
    if os.path.isfile(key):
        try:
            with open(key, encoding="utf-8") as file:
                text = file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read the key file {key}: {error}") from None
    parts = text.split("+", 2)  # the base64 may hold '+', the name and key ID may not
    if len(parts) != 3 or not parts[0] or any(c <= " " or c == "\x7f" for c in parts[0]) \
            or len(parts[1]) != 8 or any(c not in "0123456789abcdefABCDEF" for c in parts[1]):
        raise UsageError(f"the key {text!r} is not a verifier key NAME+KEYID+BASE64")
    name, key_id = parts[0], bytes.fromhex(parts[1])
    try:
        encoded = decode_base64(parts[2].encode("ascii"), "the key", 33)
    except (Failed, UnicodeEncodeError):
        encoded = b""
    if encoded[:1] != ED25519_TYPE:
        raise UsageError(f"the key {text!r} is not of type 1 (Ed25519) and 32 bytes")
    public_key = encoded[1:]
    if note_key_id(name, public_key) != key_id:
        raise UsageError(f"the key {text!r}: its key ID does not match its name and key")
    return name, key_id, public_key


def note_key_id(name, public_key):
    """Section 5.2: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    return sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + public_key)[:4]


def key_text(key):
    name, key_id, public_key = key
    return f"{name}+{key_id.hex()}+{base64.b64encode(ED25519_TYPE + public_key).decode()}"


def ed25519_verifies(public_key, message, signature):
    """Ed25519 (pure) through `openssl pkeyutl -verify -rawin`."""
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(ED25519_DER_HEADER + public_key) \
        + b"\n-----END PUBLIC KEY-----\n"
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, data in (("key.pem", pem), ("message", message), ("signature", signature)):
            paths[name] = os.path.join(folder, name)
            with open(paths[name], "wb") as file:
                file.write(data)
        try:
            run = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                  paths["key.pem"], "-rawin", "-in", paths["message"],
                                  "-sigfile", paths["signature"]], capture_output=True)
        except OSError as error:
            raise UsageError(f"cannot run openssl: {error}") from None
    if run.returncode != 0 and b"Signature Verification Failure" not in run.stdout:
        raise UsageError("openssl could not check an Ed25519 signature: "
                         + run.stderr.decode(errors="replace").strip()[:300])
    return run.returncode == 0


def check_checkpoint(note, key, which):
    """Sections 5.1 and 5.2: parse the signed note, verify its signature by `key`, and return
    the checkpoint's (origin, size, root)."""
    split = note.find(b"\n\n")
    if split < 0:
        raise Failed(f"{which} has no empty line before its signatures")
    text, signature_lines = note[:split + 1], note[split + 2:]
    if not signature_lines.endswith(b"\n"):
        raise Failed(f"{which} has no signature lines, or its last does not end in a newline")
    name, key_id, public_key = key
    signed = False
    for line in signature_lines[:-1].split(b"\n"):
        if not line.startswith(SIGNATURE_START) or line.count(b" ") != 2:
            raise Failed(f"{which} has a line that is not '\u2014 NAME SIGNATURE'")
        line_name, encoded = line[len(SIGNATURE_START):].split(b" ")
        signature = decode_base64(encoded, f"a signature of {which}")
        if line_name != name.encode("utf-8") or signature[:4] != key_id:
            continue  # another signer's, or another key of this name
        if len(signature) != 68 or not ed25519_verifies(public_key, text, signature[4:]):
            raise Failed(f"{which}: the signature of {key_text(key)} does not verify")
        signed = True
    if not signed:
        raise Failed(f"{which} has no signature by {key_text(key)}")
    lines = text[:-1].split(b"\n")
    if len(lines) != 3:
        raise Failed(f"{which} is not a checkpoint of three lines (origin, size, root)")
    origin, size, root = lines
    if not origin or not size.isdigit() or (len(size) > 1 and size.startswith(b"0")):
        raise Failed(f"{which} has no origin or no decimal tree size")
    return (origin.decode("utf-8", errors="replace"), int(size),
            decode_base64(root, f"the root of {which}", 32))


def parse_hashes(lines, what):
    return [decode_base64(line, f"{what} {number}", 32) for number, line in enumerate(lines, 1)]


def parse_inclusion(head, note):
    """Section 6.1, step 1: the extra line, 1 to 64 increasing index lines, proof lines."""
    if not head or not head[0].startswith(b"extra "):
        raise Failed("line 2 is not 'extra BASE64'")
    extra = decode_base64(head[0][len(b"extra "):], "the extra data")
    indices = []
    for line in head[1:]:
        if not line.startswith(b"index "):
            break
        number = line[len(b"index "):]
        if not number.isdigit() or (len(number) > 1 and number.startswith(b"0")) \
                or (indices and int(number) <= indices[-1]):
            raise Failed(f"'{line.decode(errors='replace')}': indices are decimals without "
                         "leading zeros, each above the one before")
        indices.append(int(number))
    if not 1 <= len(indices) <= EVENTS_MAX:
        raise Failed(f"it needs 1 to {EVENTS_MAX} index lines, not {len(indices)}")
    if len(extra) != 32 * len(indices):
        raise Failed("its extra data is not the 32-byte hash of each indexed event")
    event_hashes = [extra[i:i + 32] for i in range(0, len(extra), 32)]
    return indices, event_hashes, parse_hashes(head[1 + len(indices):], "proof hash"), note


def split_notes(notes):
    """Section 6.3: the newer checkpoint starts after the older one's signature lines."""
    at = notes.find(b"\n\n")
    if at < 0:
        raise Failed("it needs two signed checkpoints after the empty line")
    at += 2
    start = at
    while notes.startswith(SIGNATURE_START, at) and notes.find(b"\n", at) >= 0:
        at = notes.find(b"\n", at) + 1
    if at == start or at >= len(notes):
        raise Failed("it needs two signed checkpoints after the empty line")
    return notes[:at], notes[at:]


def multi_leaf_root(begin, end, leaves, proof):
    """Section 6.2: the root of leaves [begin, end), `leaves` the (index, leaf hash) in it."""
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
    try:
        return next(proof)
    except StopIteration:
        raise Failed("the proof does not verify: it has too few hashes") from None


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162, section 2.1.4.2, from the older tree to the newer."""
    if old_size == 0 or old_size > new_size:
        raise Failed(f"the older checkpoint's size {old_size} is not from 1 to the newer "
                     f"one's {new_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise Failed("two checkpoints of one size need equal roots and an empty proof")
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
    if fr != old_root:
        raise Failed("the consistency proof leads to another root of the older checkpoint")
    if sr != new_root:
        raise Failed("the consistency proof leads to another root of the newer checkpoint")


def check_inclusion(bundle, key):
    """Section 6.1, steps 2 and 3. Returns the OK lines."""
    indices, event_hashes, proof, note = bundle
    origin, size, root = check_checkpoint(note, key, "the checkpoint")
    if indices[-1] >= size:
        raise Failed(f"index {indices[-1]} is not below the checkpoint's size {size}")
    hashes = iter(proof)
    leaves = [(index, leaf_hash(h)) for index, h in zip(indices, event_hashes)]
    computed = multi_leaf_root(0, size, leaves, hashes)
    if next(hashes, None) is not None:
        raise Failed("the proof does not verify: it has hashes left over")
    if computed != root:
        raise Failed(f"the proof does not verify: it gives the root {computed.hex()}, the "
                     f"checkpoint signs {root.hex()}")
    lines = [f"OK: event {index + 1} (hash {h.hex()}) is in the log"
             for index, h in zip(indices, event_hashes)]
    return lines + [f"OK: the log {origin} of {size} events (root {root.hex()}) holds them, as "
                    f"its checkpoint signed by {key_text(key)} says"]


def check_consistency(proof, older_note, newer_note, key):
    """Section 6.3. Returns the OK line."""
    old_origin, old_size, old_root = check_checkpoint(older_note, key, "the older checkpoint")
    origin, size, root = check_checkpoint(newer_note, key, "the newer checkpoint")
    if old_origin != origin:
        raise Failed(f"the two checkpoints are of different origins ({old_origin}, {origin})")
    verify_consistency(old_size, size, old_root, root, proof)
    return [f"OK: the log {origin} of {size} events (root {root.hex()}) extends its log of "
            f"{old_size} events (root {old_root.hex()}); both checkpoints signed by "
            f"{key_text(key)}"]


def check_bundle(data, key):
    """Splits the bundle at its empty line and checks it by its first line's kind."""
    if not data.endswith(b"\n"):
        raise Failed("it is not a proof bundle: it does not end in a newline")
    head, empty, notes = data.partition(b"\n\n")
    if not empty:
        raise Failed("it is not a proof bundle: no empty line before the checkpoint")
    head = head.split(b"\n")
    if head[0] == INCLUSION_HEADER:
        return check_inclusion(parse_inclusion(head[1:], notes), key)
    if head[0] == CONSISTENCY_HEADER:
        return check_consistency(parse_hashes(head[1:], "proof hash"), *split_notes(notes), key)
    raise Failed(f"it is not a proof bundle: its first line is neither "
                 f"{INCLUSION_HEADER.decode()} nor {CONSISTENCY_HEADER.decode()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the .tlog-proof file")
    parser.add_argument("key", help="the verifier key NAME+KEYID+BASE64, or a file holding it")
    args = parser.parse_args()
    try:
        key = read_verifier_key(args.key)
        try:
            with open(args.file, "rb") as file:
                data = file.read()
        except OSError as error:
            raise UsageError(f"cannot read {args.file}: {error}") from None
        try:
            lines = check_bundle(data, key)
        except Failed as failure:
            print(f"FAILED: {failure}")
            return 1
    except UsageError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
