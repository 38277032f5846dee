#!/usr/bin/env python3
"""Check the chain of a demarche export with nothing but Python 3.

    python3 tools/verify_export.py ledger.jsonl [--expect-head SIZE:HASH]

An export line is an event's JSON inside an envelope of seq, recorded_at,
prev, hash and digest (see `demarche export --help`). For each line this
script re-encodes the event's fields as its payload (schema/FORMAT.md,
section 3), hashes the payload and the record header (section 2) with
BLAKE3 in derive_key mode, and follows the links from the first record to
the last. An edited field, a dropped, moved or inserted line, or a rewritten
hash shows up as the first seq that does not check.

It uses the `blake3` package when it is installed, and otherwise the short
pure-Python BLAKE3 below (slow: about a thousand events a second, which is
plenty for a spot check).

Exit status: 0 intact, 1 the chain does not check, 2 the file is not an
export.
"""

import datetime
import decimal
import json
import struct
import sys

PAYLOAD_CONTEXT = "demarche 2026-11-29 event payload v1"
LINK_CONTEXT = "demarche 2026-11-29 chain link v1"

# --------------------------------------------------------------------------
# BLAKE3, derive_key mode only (https://github.com/BLAKE3-team/BLAKE3-specs)

IV = [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
      0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19]
PERM = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
CHUNK_START, CHUNK_END, PARENT, ROOT = 1, 2, 4, 8
DERIVE_KEY_CONTEXT, DERIVE_KEY_MATERIAL = 32, 64
M32 = 0xFFFFFFFF


def _g(s, a, b, c, d, x, y):
    s[a] = (s[a] + s[b] + x) & M32
    v = s[d] ^ s[a]
    s[d] = ((v >> 16) | (v << 16)) & M32
    s[c] = (s[c] + s[d]) & M32
    v = s[b] ^ s[c]
    s[b] = ((v >> 12) | (v << 20)) & M32
    s[a] = (s[a] + s[b] + y) & M32
    v = s[d] ^ s[a]
    s[d] = ((v >> 8) | (v << 24)) & M32
    s[c] = (s[c] + s[d]) & M32
    v = s[b] ^ s[c]
    s[b] = ((v >> 7) | (v << 25)) & M32


def _compress(cv, block, counter, block_len, flags):
    m = list(struct.unpack("<16I", block.ljust(64, b"\0")))
    s = list(cv) + IV[:4] + [counter & M32, counter >> 32, block_len, flags]
    for r in range(7):
        _g(s, 0, 4, 8, 12, m[0], m[1])
        _g(s, 1, 5, 9, 13, m[2], m[3])
        _g(s, 2, 6, 10, 14, m[4], m[5])
        _g(s, 3, 7, 11, 15, m[6], m[7])
        _g(s, 0, 5, 10, 15, m[8], m[9])
        _g(s, 1, 6, 11, 12, m[10], m[11])
        _g(s, 2, 7, 8, 13, m[12], m[13])
        _g(s, 3, 4, 9, 14, m[14], m[15])
        if r < 6:
            m = [m[i] for i in PERM]
    return [s[i] ^ s[i + 8] for i in range(8)]


def _chunk_cv(key, chunk, index, flags, root):
    blocks = [chunk[i:i + 64] for i in range(0, len(chunk), 64)] or [b""]
    cv = key
    for i, b in enumerate(blocks):
        f = flags
        if i == 0:
            f |= CHUNK_START
        if i == len(blocks) - 1:
            f |= CHUNK_END | (ROOT if root else 0)
        cv = _compress(cv, b, index, len(b), f)
    return cv


def _tree_cv(key, chunks, first, flags, root):
    if len(chunks) == 1:
        return _chunk_cv(key, chunks[0], first, flags, root)
    left = 1 << ((len(chunks) - 1).bit_length() - 1)  # largest power of 2 < n
    lcv = _tree_cv(key, chunks[:left], first, flags, False)
    rcv = _tree_cv(key, chunks[left:], first + left, flags, False)
    block = struct.pack("<16I", *(lcv + rcv))
    return _compress(key, block, 0, 64, flags | PARENT | (ROOT if root else 0))


def _hash(key, data, flags):
    chunks = [data[i:i + 1024] for i in range(0, len(data), 1024)] or [b""]
    return struct.pack("<8I", *_tree_cv(key, chunks, 0, flags, True))


_context_keys = {}


def derive_key(context, material):
    try:
        import blake3  # the fast path, when installed
        return blake3.blake3(material, derive_key_context=context).digest()
    except ImportError:
        pass
    key = _context_keys.get(context)
    if key is None:
        ck = _hash(IV, context.encode(), DERIVE_KEY_CONTEXT)
        key = _context_keys[context] = list(struct.unpack("<8I", ck))
    return _hash(key, material, DERIVE_KEY_MATERIAL)


# --------------------------------------------------------------------------
# The payload: bincode legacy() encoding of event formats 1, 2 and 3
# (schema/FORMAT.md §3)

def _u32(v):
    return struct.pack("<I", v)


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _option(v, enc):
    return b"\0" if v is None else b"\1" + enc(v)


def _strings(xs):
    return struct.pack("<Q", len(xs)) + b"".join(_string(x) for x in xs)


EPOCH = datetime.date(1970, 1, 1)


def _days(s):
    return struct.pack("<i", (datetime.date.fromisoformat(s) - EPOCH).days)


def _said_on(s):
    """said_on: i32 days, then Option<Time{seconds u32, offset Option<i16>}>."""
    if "T" not in s:
        return _days(s) + b"\0"
    date, clock = s.split("T", 1)
    offset = None
    if clock.endswith("Z"):
        clock, offset = clock[:-1], 0
    elif "+" in clock or "-" in clock:
        i = max(clock.find("+"), clock.find("-"))
        clock, o = clock[:i], clock[i:]
        minutes = int(o[1:3]) * 60 + int(o[4:6])
        offset = -minutes if o[0] == "-" else minutes
    parts = [int(p) for p in clock.split(":")] + [0]
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    time = struct.pack("<I", seconds) + _option(offset, lambda m: struct.pack("<h", m))
    return _days(date) + b"\1" + time


def _sources(s):
    """The statement's sources: `source`, or the list `sources`."""
    return [s["source"]] if "source" in s else s["sources"]


def _statement(s):
    p, src = s["proposition"], _sources(s)[0]
    speaker = s.get("speaker")
    return b"".join([
        _said_on(s["said_on"]),
        _string(s["party"]),
        _option(speaker, lambda sp: _string(sp["name"]) + _option(sp.get("role"), _string)),
        _string(s["stance"]),
        _option(s.get("hedge"), _string),
        _string(p["predicate"]),
        _strings(p.get("subjects", [])),
        _option(p.get("location"), _string),
        _option(p.get("qualifier"), _string),
        _string(s["quote"]),
        _option(src.get("url"), _string),
        _option(src.get("publisher"), _string),
        _option(src.get("published_on"), _days),
    ])


QUOTE_KINDS = ["verbatim", "translation", "paraphrase"]


def _more(s):
    """The fields of event format 2, or None when the statement has none."""
    p, speaker = s["proposition"], s.get("speaker") or {}
    kind = QUOTE_KINDS.index(s.get("quote_kind", "verbatim"))
    fields = [s.get("joint_with") or None, speaker.get("actor"), s.get("condition"),
              s.get("deadline"), p.get("document"), kind or None, s.get("language"),
              _sources(s)[1:] or None]
    if all(f is None for f in fields):
        return None
    return b"".join([
        _strings(s.get("joint_with", [])),
        _option(speaker.get("actor"), _string),
        _option(s.get("condition"), _string),
        _option(s.get("deadline"), _days),
        _option(p.get("document"), _string),
        bytes([kind]),
        _option(s.get("language"), _string),
        struct.pack("<Q", len(_sources(s)) - 1) + b"".join(
            _option(x.get("url"), _string) + _option(x.get("publisher"), _string)
            + _option(x.get("published_on"), _days) for x in _sources(s)[1:]),
    ])


def _fixed(v, places):
    """A decimal of the JSON (at most `places` decimals) as a fixed-point integer."""
    d = decimal.Decimal(repr(v)) if isinstance(v, float) else decimal.Decimal(v)
    return int((d * 10 ** places).to_integral_value())


def _coded(c):
    """A machine coder's provenance (event format 3): Goldstein scale in
    tenths, tone in thousandths."""
    return b"".join([
        _string(c["coder"]), struct.pack("<Q", c["event_id"]), _string(c["cameo"]),
        struct.pack("<IIii", c["mentions"], c["sources"], _fixed(c["goldstein"], 1),
                    _fixed(c["tone"], 3)),
    ])


def _more_always(s):
    """The fields of event format 2, empty ones included (event format 3)."""
    return _more(s) or b"".join([_strings([]), b"\0\0\0\0", bytes([0]), b"\0",
                                 struct.pack("<Q", 0)])


def payload(e):
    """The event's payload bytes (format 3 exactly when a statement has a
    coder's provenance, else format 2 only when the event needs it)."""
    kind = e.get("type", "statement")
    if kind == "statement" and "coded" in e:
        return _u32(8) + _statement(e) + _more_always(e) + _coded(e["coded"])
    if kind == "correction" and "coded" in e["statement"]:
        s = e["statement"]
        return (_u32(9) + struct.pack("<Q", e["of"]) + _statement(s)
                + _option(e.get("reason"), _string) + _more_always(s) + _coded(s["coded"]))
    if kind == "statement":
        more = _more(e)
        if more is not None:
            return _u32(5) + _statement(e) + more
        return _u32(0) + _statement(e)
    if kind == "correction":
        s = e["statement"]
        more = _more(s)
        tail = _option(e.get("reason"), _string)
        if more is not None:
            return _u32(6) + struct.pack("<Q", e["of"]) + _statement(s) + tail + more
        return _u32(1) + struct.pack("<Q", e["of"]) + _statement(s) + tail
    if kind == "role":
        return b"".join([_u32(7), _string(e["actor"]), _string(e["party"]), _string(e["role"]),
                         _days(e["from"]), _option(e.get("until"), _days)])
    if kind == "retraction":
        return _u32(2) + struct.pack("<Q", e["of"]) + _string(e["reason"])
    if kind == "actor":
        return b"".join([_u32(3), _string(e["id"]), _string(e["name"]), _string(e["kind"]),
                         _strings(e.get("aliases", [])), _option(e.get("parent"), _string),
                         _option(e.get("cameo"), _string)])
    if kind == "alias":
        return _u32(4) + _string(e["actor"]) + _string(e["alias"])
    raise ValueError("unknown event type %r" % kind)


# --------------------------------------------------------------------------
# The chain (schema/FORMAT.md §2)

def micros(rfc3339):
    """recorded_at (RFC 3339, UTC, to the microsecond) as microseconds since 1970."""
    t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    delta = t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def encoding(body):
    """The payload encoding: 2 for the variants of event format 2 (5, 6, 7),
    3 for those of event format 3 (8, 9)."""
    tag = struct.unpack("<I", body[:4])[0]
    return 3 if tag >= 8 else 2 if tag >= 5 else 1


def link_input(seq, recorded_at, prev, payload_len, digest, enc=1):
    # record format 1, hash algorithm 1 (BLAKE3), payload encoding 1, 2 or 3
    return (bytes([1, 1, enc]) + struct.pack("<Qq", seq, recorded_at) + prev
            + struct.pack("<I", payload_len) + digest)


def check(lines, expect=None):
    """Returns (events checked, head hash hex, problem or None)."""
    size, head = 0, bytes(32)
    last_time = None
    for n, line in lines:
        r = json.loads(line)
        seq = r.pop("seq")
        at = micros(r.pop("recorded_at"))
        prev, digest, claimed = (bytes.fromhex(r.pop(k)) for k in ("prev", "digest", "hash"))
        where = "seq %d (line %d): " % (seq, n)
        if seq != size + 1:
            return size, head.hex(), where + "expected seq %d next" % (size + 1)
        if prev != head:
            return size, head.hex(), where + "prev does not match the record before"
        if last_time is not None and at < last_time:
            return size, head.hex(), where + "recorded_at goes backwards"
        if r.get("type") == "redacted":
            length, enc = r["payload_len"], r.get("payload_encoding", 1)
        else:
            body = payload(r)
            length, enc = len(body), encoding(body)
            if derive_key(PAYLOAD_CONTEXT, body) != digest:
                return size, head.hex(), where + "the fields do not hash to the digest: edited"
        h = derive_key(LINK_CONTEXT, link_input(seq, at, prev, length, digest, enc))
        if h != claimed:
            return size, head.hex(), where + "the record does not hash to its hash"
        if expect and expect[0] == seq and expect[1] != h:
            return size, head.hex(), where + "not the expected head: rewritten"
        size, head, last_time = seq, h, at
    if expect and size < expect[0]:
        return size, head.hex(), "the export ends at seq %d, before the expected head" % size
    return size, head.hex(), None


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--expect-head"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    expect = None
    if len(argv) == 4:
        size, _, hexhash = argv[3].partition(":")
        expect = (int(size), bytes.fromhex(hexhash))
    try:
        with open(argv[1], encoding="utf-8") as f:
            lines = ((n, line) for n, line in enumerate(f, 1) if line.strip())
            size, head, problem = check(lines, expect)
    except (ValueError, KeyError, TypeError) as e:
        print("error: not a demarche export: %s" % e, file=sys.stderr)
        return 2
    if problem:
        print("TAMPERED: %s" % problem)
        return 1
    print("intact: %d events, head %d:%s" % (size, size, head))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
