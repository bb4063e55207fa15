"""The command grammar: what random commands the harness sends, and how each reply is compared.

A command family is a list of `Cmd` rows: the command's name (as `COMMAND LIST` gives it), a
weight, a generator that returns the arguments (the name first) and, when the reply cannot be
compared byte for byte, the name of a comparison rule from `compare.py`. Adding a family is a
new list of rows appended to `FAMILIES`, plus a reader in `compare.DUMP_BY_TYPE` for its type.

Every generator takes a `Gen` (a seeded random source with the shared edge-case pools) and
returns a list of bytes. Keys come from a small key space so commands hit existing keys often.
"""

import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# Eight keys: plain, empty, binary (NUL, high bytes, CRLF inside), and a long hash-tag form
# that gives glob patterns with many stars something to backtrack over.
KEY_SPACE: List[bytes] = [b"a", b"b", b"c", b"k:1", b"k:2", b"", b"\x00\xff\r\n", b"{a}" + b"a" * 40]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# Integers as clients might spell them, valid and not: Int64 bounds and just past them,
# spaces, a leading +, leading zeros, hex, exponents, decimals.
INT_EDGES: List[bytes] = [
    b"0", b"1", b"-1", b"2", b"3", b"10", b"-10", b"100", b"-100", b"1000000",
    str(INT64_MAX).encode(), str(INT64_MIN).encode(),
    str(INT64_MAX + 1).encode(), str(INT64_MIN - 1).encode(), str(2**64).encode(),
    str(INT64_MAX - 1).encode(), str(INT64_MIN + 1).encode(), str(2**62).encode(),
    b" 1", b"1 ", b"+1", b"01", b"-01", b"00", b"-0", b"0x10", b"1e3", b"1.0", b"1.5",
    b"", b"abc", b"1a", b"\x001", b"--1", b"+-1", b"-",
]

# Floats: infinities, NaN, negative zero, out of range, exponents, odd spellings.
FLOAT_EDGES: List[bytes] = [
    b"0", b"1", b"-1", b"1.5", b"-1.5", b"0.1", b"10", b"-10", b"3.0", b"1e3", b"1E3",
    b"1.5e+2", b"1e-5", b".5", b"5.", b"-.5", b"+1.5", b"01.5",
    b"inf", b"-inf", b"+inf", b"INF", b"infinity", b"-Infinity", b"nan", b"-nan", b"NaN",
    b"-0", b"-0.0", b"1e400", b"-1e400", b"1e308", b"1.7976931348623157e308", b"5e-324",
    b"1e-400", b"0x10", b" 1", b"1 ", b"", b"abc", b"1.5.5", b"1e", b"e5",
    str(INT64_MAX).encode(), str(INT64_MIN).encode(), b"3.0000000000000001", b"1234567.125",
]

# Values: numbers (so counters work), text, empty, binary, a longer string.
VALUES: List[bytes] = [
    b"0", b"1", b"-1", b"10", b"41", b"100", b"-100", str(INT64_MAX).encode(), str(INT64_MIN).encode(),
    str(INT64_MAX - 1).encode(), str(INT64_MIN + 1).encode(), b"1.5", b"-0", b"3.0", b"1e3", b"inf", b"nan",
    b" 1", b"+1", b"01", b"hello", b"world", b"", b"\x00", b"a\x00b", b"\xff\xfe\x80", b"\r\n", b"x\r\ny",
    b"$3\r\nabc", b"*1\r\n", b"v" * 100, b"0123456789" * 5,
]

# Glob patterns for KEYS and SCAN MATCH, including Redis's odd corners ([, \, ranges, negation).
PATTERNS: List[bytes] = [
    b"*", b"a", b"k*", b"k:?", b"?", b"??", b"*a*", b"[ab]", b"[^a]", b"[!a]", b"[a-c]", b"[c-a]",
    b"k:[0-9]", b"k:[^1]", b"\\*", b"\\a", b"a\\", b"[", b"[a", b"[a-", b"[]", b"[\\]]", b"[^]",
    b"*\x00*", b"\x00*", b"{a}*", b"*x", b"", b"**", b"*?*", b"[*]", b"k\\:1", b"*[", b"*\\",
    b"*a" * 14 + b"b", b"{a}" + b"*a" * 16 + b"*c", b"*?" * 20 + b"x",
]

# Expiry amounts: zero, negative, overflowing, malformed. Valid relative amounts are drawn by
# `Gen.seconds`/`Gen.millis` at random from a wide far-future range instead: never small (a key
# would expire while a sequence runs), and never equal to one another, since two equal relative
# amounts given in the same millisecond tie under GT/LT while a millisecond apart they do not.
EXPIRE_RELATIVE: List[bytes] = [
    b"0", b"-1", b"-1000000", str(INT64_MAX).encode(), str(INT64_MIN).encode(),
    b"9223372036854775", b"9223372036854776", b"9223372036854775807000", b"4611686018427387904",
    b"abc", b"1.5", b" 100000", b"+100000", b"0x100000", b"",
]
EXPIRE_RELATIVE_MS: List[bytes] = [
    b"0", b"-1", b"-1000000", str(INT64_MAX).encode(), str(INT64_MIN).encode(),
    b"9223372036854775", b"9223372036854775000", b"abc", b"1.5",
]
# Absolute times: year 2096, the past (1), the epoch, overflowing, and the latest instant
# kvs-server keeps exactly (2262-04-11: deadlines are nanoseconds in 64 bits). A valid time
# past that one is stored as that instant, a documented difference ("Known differences from
# Redis" in docs/kvs-server.md), so none is sent: INT64_MAX seconds still overflow in both.
EXPIRE_ABSOLUTE: List[bytes] = [
    b"4000000000", b"1", b"0", b"-1", str(INT64_MAX).encode(), b"9223372036", b"9223372036854776", b"abc",
]
EXPIRE_ABSOLUTE_MS: List[bytes] = [
    b"4000000000000", b"1", b"0", b"-1", b"9223372036853", b"abc",
]

# SETRANGE offsets: small, past the end, negative, and at or past Redis's 512 MiB limit (an
# error for any non-empty value). Valid offsets near the limit are left out: each would make
# both servers build a 512 MiB string.
SETRANGE_OFFSETS: List[bytes] = [
    b"0", b"1", b"2", b"5", b"10", b"100", b"-1", str(INT64_MIN).encode(), str(INT64_MAX).encode(),
    b"536870912", b"536870913", str(INT64_MAX - 1).encode(), str(2**62).encode(),
    b"4294967296", b"abc", b"1.0", b" 1", b"+1",
]


class Gen:
    """A seeded random source with helpers that draw from the edge-case pools."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, seq: Sequence):
        return seq[self.r.randrange(len(seq))]

    def key(self) -> bytes:
        return self.pick(KEY_SPACE)

    def keys(self, lo: int = 1, hi: int = 4) -> List[bytes]:
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def value(self) -> bytes:
        if self.chance(0.15):
            return bytes(self.r.randrange(256) for _ in range(self.r.randint(0, 12)))
        return self.pick(VALUES)

    def small_int(self, lo: int = -10, hi: int = 10) -> bytes:
        return str(self.r.randint(lo, hi)).encode()

    def integer(self) -> bytes:
        if self.chance(0.5):
            return self.small_int(-20, 20)
        return self.pick(INT_EDGES)

    def float_(self) -> bytes:
        if self.chance(0.3):
            return self.small_int(-20, 20)
        return self.pick(FLOAT_EDGES)

    def seconds(self) -> bytes:
        """A relative expiry in seconds: mostly a far-future amount, else an edge case."""
        if self.chance(0.7):
            return str(self.r.randint(100_000, 10_000_000)).encode()
        return self.pick(EXPIRE_RELATIVE)

    def millis(self) -> bytes:
        """A relative expiry in milliseconds: mostly a far-future amount, else an edge case."""
        if self.chance(0.7):
            return str(self.r.randint(100_000_000, 10_000_000_000)).encode()
        return self.pick(EXPIRE_RELATIVE_MS)

    def pattern(self) -> bytes:
        if self.chance(0.1):
            return self.key()
        return self.pick(PATTERNS)

    def case(self, word: bytes) -> bytes:
        """An option or command name in random letter case (Redis ignores case)."""
        if self.chance(0.7):
            return word
        return bytes(c ^ 0x20 if 0x41 <= (c & ~0x20) <= 0x5A and self.chance(0.5) else c for c in word)

    def options(self, table: Sequence[Tuple[bytes, Optional[Callable[["Gen"], bytes]]]], most: int = 3) -> List[bytes]:
        """Up to `most` options from (name, argument generator or None), repeats and conflicts allowed."""
        out: List[bytes] = []
        for _ in range(self.r.randint(0, most)):
            name, arg = self.pick(table)
            out.append(self.case(name))
            if arg is not None and not self.chance(0.03):  # sometimes the argument is missing
                out.append(arg(self))
        if self.chance(0.03):
            # Never a small positive number: after an option whose argument was left out it
            # would make a 1 ms TTL, which expires while the sequence runs (timing, not semantics).
            out.append(self.pick([b"FOO", b"", b"EX", b"-1"]))
        return out


@dataclass
class Cmd:
    """One row of the grammar.

    name: the command (lowercase, as COMMAND LIST names it); weight: how often it is drawn;
    gen: builds the arguments after the name; compare: the comparison rule
    (see compare.RULES; "exact" unless the reply carries time, identity or order);
    writes: whether it writes the key in its first argument.
    """

    name: str
    weight: float
    gen: Callable[[Gen], List[bytes]]
    compare: str = "exact"
    # Writes its first argument's key: WATCH blocks let the second connection run it there.
    writes: bool = False


# --- strings -----------------------------------------------------------------

SET_OPTIONS = [
    (b"NX", None), (b"XX", None), (b"GET", None), (b"KEEPTTL", None),
    (b"EX", lambda g: g.seconds()), (b"PX", lambda g: g.millis()),
    (b"EXAT", lambda g: g.pick(EXPIRE_ABSOLUTE)), (b"PXAT", lambda g: g.pick(EXPIRE_ABSOLUTE_MS)),
]
GETEX_OPTIONS = [
    (b"EX", lambda g: g.seconds()), (b"PX", lambda g: g.millis()),
    (b"EXAT", lambda g: g.pick(EXPIRE_ABSOLUTE)), (b"PXAT", lambda g: g.pick(EXPIRE_ABSOLUTE_MS)),
    (b"PERSIST", None),
]


def _pairs(g: Gen) -> List[bytes]:
    out: List[bytes] = []
    for k in g.keys(1, 4):
        out += [k, g.value()]
    if g.chance(0.05):
        out.append(g.key())  # odd count: a wrong-arity error
    return out


STRINGS: List[Cmd] = [
    Cmd("get", 6, lambda g: [g.key()]),
    Cmd("set", 10, lambda g: [g.key(), g.value()] + g.options(SET_OPTIONS), writes=True),
    Cmd("setnx", 2, lambda g: [g.key(), g.value()]),
    Cmd("setex", 2, lambda g: [g.key(), g.seconds(), g.value()]),
    Cmd("psetex", 2, lambda g: [g.key(), g.millis(), g.value()]),
    Cmd("getset", 2, lambda g: [g.key(), g.value()]),
    Cmd("getdel", 2, lambda g: [g.key()], writes=True),
    Cmd("getex", 3, lambda g: [g.key()] + g.options(GETEX_OPTIONS, 2)),
    Cmd("mget", 3, lambda g: g.keys(1, 5)),
    Cmd("mset", 3, _pairs, writes=True),
    Cmd("msetnx", 2, _pairs),
    Cmd("append", 4, lambda g: [g.key(), g.value()], writes=True),
    Cmd("strlen", 2, lambda g: [g.key()]),
    Cmd("getrange", 3, lambda g: [g.key(), g.integer(), g.integer()]),
    Cmd("substr", 1, lambda g: [g.key(), g.integer(), g.integer()]),
    Cmd("setrange", 3, lambda g: [g.key(), g.pick(SETRANGE_OFFSETS), g.value() if g.chance(0.8) else b""], writes=True),
    Cmd("incr", 4, lambda g: [g.key()], writes=True),
    Cmd("decr", 2, lambda g: [g.key()]),
    Cmd("incrby", 4, lambda g: [g.key(), g.integer()]),
    Cmd("decrby", 3, lambda g: [g.key(), g.integer()]),
    Cmd("incrbyfloat", 4, lambda g: [g.key(), g.float_()]),
]

# --- keys --------------------------------------------------------------------

EXPIRE_FLAGS = [(b"NX", None), (b"XX", None), (b"GT", None), (b"LT", None)]


def _expire(amount: Callable[[Gen], bytes]) -> Callable[[Gen], List[bytes]]:
    return lambda g: [g.key(), amount(g)] + g.options(EXPIRE_FLAGS, 2)


SCAN_OPTIONS = [
    (b"MATCH", lambda g: g.pattern()),
    (b"COUNT", lambda g: g.pick([b"1", b"10", b"1000", b"0", b"-1", str(INT64_MAX).encode(), b"abc"])),
    (b"TYPE", lambda g: g.pick([b"string", b"list", b"hash", b"set", b"zset", b"none", b"STRING", b"foo"])),
]


def _scan(g: Gen) -> List[bytes]:
    cursor = g.pick([b"0", b"0", b"abc", b"-1", b"1.5", str(2**64).encode(), b""])
    return [cursor] + g.options(SCAN_OPTIONS, 3)


KEYS: List[Cmd] = [
    Cmd("del", 4, lambda g: g.keys(1, 4), writes=True),
    Cmd("unlink", 1, lambda g: g.keys(1, 4)),
    Cmd("exists", 3, lambda g: g.keys(1, 4)),
    Cmd("touch", 2, lambda g: g.keys(1, 4)),
    Cmd("type", 2, lambda g: [g.key()]),
    Cmd("rename", 2, lambda g: [g.key(), g.key()], writes=True),
    Cmd("renamenx", 2, lambda g: [g.key(), g.key()]),
    Cmd("expire", 3, _expire(Gen.seconds), writes=True),
    Cmd("pexpire", 2, _expire(Gen.millis)),
    Cmd("expireat", 2, _expire(lambda g: g.pick(EXPIRE_ABSOLUTE))),
    Cmd("pexpireat", 2, _expire(lambda g: g.pick(EXPIRE_ABSOLUTE_MS))),
    Cmd("ttl", 3, lambda g: [g.key()], "ttl"),
    Cmd("pttl", 2, lambda g: [g.key()], "ttl"),
    Cmd("expiretime", 2, lambda g: [g.key()], "ttl"),
    Cmd("pexpiretime", 2, lambda g: [g.key()], "ttl"),
    Cmd("persist", 2, lambda g: [g.key()], writes=True),
    Cmd("keys", 2, lambda g: [g.pattern()], "set"),
    # One SCAN call: the cursor names a shard in kvs, so only errors and the reply's shape
    # compare; the contents are compared by the SCAN-ALL step below.
    Cmd("scan", 1, _scan, "scan"),
    Cmd("randomkey", 1, lambda g: [], "nullness"),
]

# --- hashes ------------------------------------------------------------------

# Few fields, so hashes fill up and fields repeat; one longer than hash-max-listpack-value (64),
# and VALUES has a 100-byte value, so both encodings (listpack and hashtable) are exercised.
HASH_FIELDS: List[bytes] = [b"f", b"g", b"h", b"", b"\x00\xff\r\n", b"F" * 70]


def _field(g: Gen) -> bytes:
    return g.pick(HASH_FIELDS)


def _fields(g: Gen, lo: int = 1, hi: int = 3) -> List[bytes]:
    return [_field(g) for _ in range(g.r.randint(lo, hi))]


def _field_values(g: Gen) -> List[bytes]:
    out: List[bytes] = []
    for _ in range(g.r.randint(1, 3)):
        out += [_field(g), g.value()]
    if g.chance(0.05):
        out.append(_field(g))  # odd count: a wrong-arity error
    return out


# HRANDFIELD counts. A large negative count without WITHVALUES is never sent: Redis answers
# it by sending that many elements (2^62 at most), which no test can wait for, and kvs-server
# refuses a reply past 16 Mi elements (docs/design/server-value-types.md). With WITHVALUES,
# counts below -(2^62 - 1) are an error in both.
HRANDFIELD_COUNTS: List[bytes] = [
    b"0", b"1", b"2", b"3", b"5", b"10", b"-1", b"-2", b"-5", b"-10", str(INT64_MAX).encode(),
    str(INT64_MIN).encode(), b"abc", b"1.5", b"",
]
HRANDFIELD_WITHVALUES_ONLY: List[bytes] = [str(INT64_MIN + 1).encode(), str(-(2**62)).encode()]


def _hrandfield(g: Gen) -> List[bytes]:
    if g.chance(0.2):
        return [g.key()]
    if g.chance(0.5):
        return [g.key(), g.pick(HRANDFIELD_COUNTS + HRANDFIELD_WITHVALUES_ONLY), g.case(b"withvalues")] + (
            [b"x"] if g.chance(0.05) else []
        )
    return [g.key(), g.pick(HRANDFIELD_COUNTS)] + ([g.pick([b"FOO", b""])] if g.chance(0.05) else [])


# HSCAN, SSCAN and ZSCAN cursors: 0 and invalid ones (as strtoul reads them: a leading space,
# a stray character, past 2^64 - 1). A valid non-zero cursor is never sent: on a hashtable
# both servers resume from that bucket, but their buckets differ (kvs-server hashes with its
# own seeded hash), so the elements of one step differ; on a listpack or an intset both
# answer everything. COUNT is never 1 to 9: with the few elements here, both servers then
# answer a whole table in one call (at most COUNT × 10 buckets a call, more than it has).
HSCAN_CURSORS: List[bytes] = [
    b"0", b"0", b"0", b"abc", b"1.5", str(2**64).encode(), b"", b" 1", b"1x", b"-", b"0x1",
]
HSCAN_OPTIONS = [
    (b"MATCH", lambda g: g.pick(PATTERNS[:20] + HASH_FIELDS)),
    (b"COUNT", lambda g: g.pick([b"10", b"100", b"1000", b"0", b"-1", str(INT64_MAX).encode(), b"abc"])),
    (b"NOVALUES", None),
    (b"TYPE", lambda g: b"hash"),
]


def _hscan(g: Gen) -> List[bytes]:
    opts = g.options(HSCAN_OPTIONS[:2], 2) if g.chance(0.9) else g.options(HSCAN_OPTIONS, 2)
    return [g.key(), g.pick(HSCAN_CURSORS)] + opts


HASHES: List[Cmd] = [
    Cmd("hset", 8, lambda g: [g.key()] + _field_values(g), writes=True),
    Cmd("hmset", 1, lambda g: [g.key()] + _field_values(g)),
    Cmd("hsetnx", 2, lambda g: [g.key(), _field(g), g.value()]),
    Cmd("hget", 4, lambda g: [g.key(), _field(g)]),
    Cmd("hmget", 2, lambda g: [g.key()] + _fields(g, 1, 4)),
    # A hashtable's order is its own in each server: whole hashes compare as sets.
    Cmd("hgetall", 2, lambda g: [g.key()], "pairs"),
    Cmd("hkeys", 1, lambda g: [g.key()], "set"),
    Cmd("hvals", 1, lambda g: [g.key()], "set"),
    Cmd("hdel", 3, lambda g: [g.key()] + _fields(g), writes=True),
    Cmd("hexists", 2, lambda g: [g.key(), _field(g)]),
    Cmd("hlen", 2, lambda g: [g.key()]),
    Cmd("hstrlen", 1, lambda g: [g.key(), _field(g)]),
    Cmd("hincrby", 3, lambda g: [g.key(), _field(g), g.integer()], writes=True),
    Cmd("hincrbyfloat", 3, lambda g: [g.key(), _field(g), g.float_()]),
    Cmd("hrandfield", 2, _hrandfield, "random"),
    Cmd("hscan", 1, _hscan, "hscan"),
]


# --- lists -------------------------------------------------------------------

# Few distinct elements, so LREM, LPOS and LINSERT find their pivots; a long one and binary
# ones from VALUES too.
LIST_ELEMENTS: List[bytes] = [b"a", b"b", b"c", b"", b"1", b"-1", b"\x00\xff\r\n", b"x" * 100]
# Indexes and counts: small ones of both signs mostly, the integer edge cases sometimes.
LIST_INDEX_EDGES: List[bytes] = INT_EDGES


def _element(g: Gen) -> bytes:
    return g.pick(LIST_ELEMENTS) if g.chance(0.8) else g.value()


def _elements(g: Gen, lo: int = 1, hi: int = 4) -> List[bytes]:
    return [_element(g) for _ in range(g.r.randint(lo, hi))]


def _index(g: Gen) -> bytes:
    return g.small_int(-6, 6) if g.chance(0.85) else g.pick(LIST_INDEX_EDGES)


def _pop(g: Gen) -> List[bytes]:
    if g.chance(0.5):
        return [g.key()]
    counts = [b"0", b"1", b"2", b"3", b"10", b"-1", str(INT64_MAX).encode(), str(INT64_MIN).encode(), b"abc"]
    return [g.key(), g.pick(counts)] + ([b"1"] if g.chance(0.03) else [])


def _side(g: Gen) -> bytes:
    return g.case(g.pick([b"left", b"right"])) if g.chance(0.97) else g.pick([b"up", b"", b"LEFTX"])


def _lmpop(g: Gen) -> List[bytes]:
    keys = g.keys(1, 3)
    numkeys = str(len(keys)).encode()
    if g.chance(0.08):
        numkeys = g.pick([b"0", b"-1", b"abc", b"4", str(INT64_MAX).encode(), b""])
    out = [numkeys] + keys + [_side(g)]
    if g.chance(0.5):
        out += [b"COUNT", g.pick([b"1", b"2", b"5", b"0", b"-1", b"abc", str(INT64_MAX).encode()])]
    if g.chance(0.03):
        out += g.pick([[b"COUNT", b"1"], [b"FOO"], [b"COUNT"]])
    return out


# LPOS RANK -2^63 is never sent: Redis 7.0 negates it (overflow) and answers the first match
# from the tail; kvs-server refuses it as Redis 7.2 does (docs/design/server-value-types.md).
LPOS_OPTIONS = [
    (b"RANK", lambda g: g.pick([b"1", b"2", b"-1", b"-2", b"3", b"0", b"abc", str(INT64_MAX).encode(),
                                str(INT64_MIN + 1).encode()])),
    (b"COUNT", lambda g: g.pick([b"0", b"1", b"2", b"-1", b"abc", str(INT64_MAX).encode()])),
    (b"MAXLEN", lambda g: g.pick([b"0", b"1", b"3", b"-1", b"abc", str(INT64_MAX).encode()])),
]

LISTS: List[Cmd] = [
    Cmd("lpush", 5, lambda g: [g.key()] + _elements(g), writes=True),
    Cmd("rpush", 5, lambda g: [g.key()] + _elements(g), writes=True),
    Cmd("lpushx", 1, lambda g: [g.key()] + _elements(g, 1, 2), writes=True),
    Cmd("rpushx", 1, lambda g: [g.key()] + _elements(g, 1, 2), writes=True),
    Cmd("lpop", 2, _pop, writes=True),
    Cmd("rpop", 2, _pop, writes=True),
    Cmd("llen", 1.5, lambda g: [g.key()]),
    Cmd("lrange", 3, lambda g: [g.key(), _index(g), _index(g)]),
    Cmd("lindex", 2, lambda g: [g.key(), _index(g)]),
    Cmd("lset", 1.5, lambda g: [g.key(), _index(g), _element(g)], writes=True),
    Cmd("linsert", 1.5, lambda g: [g.key(), g.case(g.pick([b"before", b"after", b"middle"]) if g.chance(0.97)
                                                   else b"x"), _element(g), _element(g)], writes=True),
    Cmd("lrem", 1.5, lambda g: [g.key(), _index(g), _element(g)], writes=True),
    Cmd("ltrim", 1, lambda g: [g.key(), _index(g), _index(g)], writes=True),
    Cmd("lpos", 2, lambda g: [g.key(), _element(g)] + g.options(LPOS_OPTIONS, 3)),
    Cmd("lmove", 1.5, lambda g: [g.key(), g.key(), _side(g), _side(g)], writes=True),
    Cmd("rpoplpush", 1, lambda g: [g.key(), g.key()], writes=True),
    Cmd("lmpop", 1.5, _lmpop),
]

# --- sets --------------------------------------------------------------------

# Nine members, so sets fill up and members repeat: canonical integers of every intset width
# (a set of those alone is an intset), and strings, a non-canonical integer among them, that
# make a hashtable. Never ten or more: SSCAN's default COUNT is 10, and both servers answer a
# whole hashtable of fewer members in one call (see HSCAN_CURSORS).
SET_INTS: List[bytes] = [b"1", b"2", b"-3", b"70000", str(INT64_MIN).encode()]
SET_STRINGS: List[bytes] = [b"a", b"", b"01", b"\x00\xff\r\n"]
SET_MEMBERS: List[bytes] = SET_INTS + SET_STRINGS


def _member(g: Gen) -> bytes:
    return g.pick(SET_INTS) if g.chance(0.7) else g.pick(SET_STRINGS)


def _members(g: Gen, lo: int = 1, hi: int = 3) -> List[bytes]:
    return [_member(g) for _ in range(g.r.randint(lo, hi))]


# SPOP counts: only those that pop nothing or the whole set (no set has more than nine
# members), and invalid ones: which members a smaller count pops is chance, and would leave
# the two servers' keyspaces apart. SPOP without a count is never sent, for the same reason.
SPOP_COUNTS: List[bytes] = [
    b"0", b"9", b"10", b"100", str(INT64_MAX).encode(), b"-1", str(INT64_MIN).encode(), b"abc", b"", b"1.5",
]

# SRANDMEMBER counts: as HRANDFIELD's, and never a large negative one (Redis would send that
# many members; kvs-server refuses a reply past 16 Mi elements).
SRANDMEMBER_COUNTS: List[bytes] = [
    b"0", b"1", b"2", b"3", b"5", b"10", b"-1", b"-2", b"-5", b"-10", str(INT64_MAX).encode(),
    str(INT64_MIN).encode(), b"abc", b"1.5", b"",
]


def _spop(g: Gen) -> List[bytes]:
    return [g.key(), g.pick(SPOP_COUNTS)] + ([b"x"] if g.chance(0.05) else [])


def _srandmember(g: Gen) -> List[bytes]:
    if g.chance(0.2):
        return [g.key()]
    return [g.key(), g.pick(SRANDMEMBER_COUNTS)] + ([b"x"] if g.chance(0.05) else [])


def _sintercard(g: Gen) -> List[bytes]:
    keys = g.keys(1, 3)
    numkeys = str(len(keys)).encode() if g.chance(0.8) else g.pick(
        [b"0", b"-1", b"abc", b"4", str(INT64_MAX).encode(), b""])
    opts: List[bytes] = []
    if g.chance(0.4):
        opts = [g.case(b"limit"), g.pick([b"0", b"1", b"2", b"5", b"-1", b"abc", str(INT64_MAX).encode()])]
    if g.chance(0.05):
        opts += g.pick([[b"LIMIT"], [b"FOO", b"1"]])
    return [numkeys] + keys + opts


SSCAN_OPTIONS = [
    (b"MATCH", lambda g: g.pick(PATTERNS[:20] + SET_MEMBERS)),
    (b"COUNT", lambda g: g.pick([b"10", b"100", b"1000", b"0", b"-1", str(INT64_MAX).encode(), b"abc"])),
    (b"NOVALUES", None),
    (b"TYPE", lambda g: b"set"),
]


def _sscan(g: Gen) -> List[bytes]:
    opts = g.options(SSCAN_OPTIONS[:2], 2) if g.chance(0.9) else g.options(SSCAN_OPTIONS, 2)
    return [g.key(), g.pick(HSCAN_CURSORS)] + opts


SETS: List[Cmd] = [
    Cmd("sadd", 8, lambda g: [g.key()] + _members(g, 1, 4), writes=True),
    Cmd("srem", 3, lambda g: [g.key()] + _members(g), writes=True),
    Cmd("scard", 2, lambda g: [g.key()]),
    Cmd("sismember", 2, lambda g: [g.key(), _member(g)]),
    Cmd("smismember", 2, lambda g: [g.key()] + _members(g, 1, 4)),
    # A hashtable's order is its own in each server: whole sets compare as sets.
    Cmd("smembers", 2, lambda g: [g.key()], "set"),
    Cmd("spop", 1, _spop, "set", writes=True),
    Cmd("srandmember", 2, _srandmember, "random"),
    Cmd("smove", 2, lambda g: [g.key(), g.key(), _member(g)], writes=True),
    Cmd("sinter", 2, lambda g: g.keys(1, 3), "set"),
    Cmd("sintercard", 1.5, _sintercard),
    Cmd("sinterstore", 1.5, lambda g: [g.key()] + g.keys(1, 3), writes=True),
    Cmd("sunion", 2, lambda g: g.keys(1, 3), "set"),
    Cmd("sunionstore", 1.5, lambda g: [g.key()] + g.keys(1, 3), writes=True),
    Cmd("sdiff", 2, lambda g: g.keys(1, 3), "set"),
    Cmd("sdiffstore", 1.5, lambda g: [g.key()] + g.keys(1, 3), writes=True),
    Cmd("sscan", 1, _sscan, "sscan"),
]

# --- sorted sets -------------------------------------------------------------

# Few members, so sets fill up and members repeat; one longer than zset-max-listpack-value
# (64), so both encodings (listpack and skiplist) are exercised.
ZSET_MEMBERS: List[bytes] = [b"a", b"b", b"c", b"d", b"", b"\x00\xff\r\n", b"M" * 70]

# Keys whose members all have score 0: the lex commands go there only. On members of
# different scores Redis's lex ranges depend on its skip list's random levels, and answer
# differently on a listpack than on a skip list (they are specified for equal scores only).
LEX_KEYS: List[bytes] = [b"lex:1", b"lex:2"]

# Score range ends: inclusive and exclusive, infinities, and the odd spellings Redis's
# zslParseRange accepts (empty, leading space, out of range) or refuses.
SCORE_BOUNDS: List[bytes] = [
    b"-inf", b"+inf", b"inf", b"(-inf", b"(+inf", b"0", b"(0", b"1", b"(1", b"-1", b"(-1", b"2.5", b"(2.5",
    b"10", b"(10", b"-0", b"(", b"", b" 1", b"1e400", b"(1e400", b"nan", b"(nan", b"abc", b"1 ", b"((1",
]
LEX_BOUNDS: List[bytes] = [
    b"-", b"+", b"[a", b"(a", b"[b", b"(b", b"[c", b"(d", b"[", b"(", b"[\x00\xff\r\n", b"a", b"", b"+x",
    b"-x", b"+\x00", b"[" + b"M" * 70,
]
ZADD_OPTIONS = [(b"NX", None), (b"XX", None), (b"GT", None), (b"LT", None), (b"CH", None), (b"INCR", None)]


def _zmember(g: Gen) -> bytes:
    return g.pick(ZSET_MEMBERS)


def _zkey(g: Gen) -> bytes:
    return g.key()


def _score_bound(g: Gen) -> bytes:
    return g.float_() if g.chance(0.2) else g.pick(SCORE_BOUNDS)


def _limit(g: Gen) -> List[bytes]:
    """LIMIT offset count, sometimes short of its arguments."""
    if g.chance(0.05):
        return [b"LIMIT", g.pick([b"0", b"1"])]
    offset = g.pick([b"0", b"0", b"1", b"2", b"-1", str(INT64_MAX).encode(), str(INT64_MIN).encode(), b"abc"])
    count = g.pick([b"0", b"1", b"2", b"3", b"-1", b"-5", str(INT64_MAX).encode(), b"abc"])
    return [g.case(b"LIMIT"), offset, count]


def _zadd(g: Gen) -> List[bytes]:
    if g.chance(0.2):
        # Equal scores only, on the lex keys.
        out = [g.pick(LEX_KEYS)]
        for _ in range(g.r.randint(1, 4)):
            out += [b"0", _zmember(g)]
        return out
    out = [_zkey(g)] + g.options(ZADD_OPTIONS, 3)
    for _ in range(g.r.randint(1, 3)):
        out += [g.float_(), _zmember(g)]
    if g.chance(0.05):
        out.append(_zmember(g))  # odd count: a syntax error
    return out


def _zrange_rank(g: Gen) -> List[bytes]:
    opts: List[bytes] = []
    for _ in range(g.r.randint(0, 2)):
        opts += g.pick([[g.case(b"WITHSCORES")], [g.case(b"REV")], [g.case(b"BYSCORE")], _limit(g)])
    if g.chance(0.03):
        opts.append(g.pick([b"FOO", b"BYLEX"]))
    if b"BYSCORE" in [o.upper() for o in opts]:
        return [_zkey(g), _score_bound(g), _score_bound(g)] + opts
    return [_zkey(g), g.integer(), g.integer()] + opts


def _zrange_lex(g: Gen) -> List[bytes]:
    opts: List[bytes] = [g.case(b"BYLEX")]
    for _ in range(g.r.randint(0, 2)):
        opts += g.pick([[g.case(b"REV")], _limit(g), [g.case(b"WITHSCORES")]])
    g.r.shuffle(opts)
    return [g.pick(LEX_KEYS), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)] + opts


def _zrangebyscore(g: Gen) -> List[bytes]:
    opts: List[bytes] = []
    for _ in range(g.r.randint(0, 2)):
        opts += g.pick([[g.case(b"WITHSCORES")], _limit(g)])
    if g.chance(0.03):
        opts.append(g.pick([b"REV", b"BYSCORE", b"FOO"]))
    return [_zkey(g), _score_bound(g), _score_bound(g)] + opts


def _zrangebylex(g: Gen) -> List[bytes]:
    opts: List[bytes] = _limit(g) if g.chance(0.4) else []
    if g.chance(0.05):
        opts.append(g.pick([b"WITHSCORES", b"REV", b"FOO"]))
    return [g.pick(LEX_KEYS), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)] + opts


def _zrangestore(g: Gen) -> List[bytes]:
    if g.chance(0.3):
        return [_zkey(g)] + _zrange_lex(g)
    args = _zrange_rank(g)
    # WITHSCORES is refused by ZRANGESTORE: keep it rare.
    if g.chance(0.8):
        args = [a for a in args if a.upper() != b"WITHSCORES"]
    return [_zkey(g)] + args


def _numkeys(g: Gen, keys: List[bytes]) -> List[bytes]:
    if g.chance(0.05):
        return [g.pick([b"0", b"-1", b"abc", str(len(keys) + 1).encode(), str(INT64_MAX).encode()])] + keys
    return [str(len(keys)).encode()] + keys


def _zsource_keys(g: Gen) -> List[bytes]:
    return [_zkey(g) if g.chance(0.85) else g.pick(LEX_KEYS) for _ in range(g.r.randint(1, 3))]


def _zalgebra(store: bool, diff: bool = False, card: bool = False) -> Callable[[Gen], List[bytes]]:
    def gen(g: Gen) -> List[bytes]:
        keys = _zsource_keys(g)
        out = ([_zkey(g)] if store else []) + _numkeys(g, keys)
        for _ in range(g.r.randint(0, 2)):
            choice = g.r.random()
            if card:
                out += [g.case(b"LIMIT"), g.pick([b"0", b"1", b"2", b"-1", b"abc", str(INT64_MAX).encode()])]
            elif choice < 0.35 and not diff:
                out += [g.case(b"WEIGHTS")] + [g.float_() for _ in range(len(keys) if g.chance(0.9) else 1)]
            elif choice < 0.7 and not diff:
                out += [g.case(b"AGGREGATE"), g.pick([b"SUM", b"MIN", b"MAX", b"sum", b"AVG"])]
            elif not store:
                out.append(g.case(b"WITHSCORES"))
        if g.chance(0.03):
            out.append(g.pick([b"FOO", b"WEIGHTS"]))
        return out
    return gen


def _zmpop(g: Gen) -> List[bytes]:
    keys = g.keys(1, 3)
    out = _numkeys(g, keys) + [g.case(g.pick([b"MIN", b"MAX", b"MIN", b"MAX", b"MID"]))]
    if g.chance(0.5):
        out += [g.case(b"COUNT"), g.pick([b"1", b"2", b"10", b"0", b"-1", b"abc", str(INT64_MAX).encode()])]
    if g.chance(0.03):
        out.append(g.pick([b"COUNT", b"FOO"]))
    return out


def _zrandmember(g: Gen) -> List[bytes]:
    if g.chance(0.2):
        return [_zkey(g)]
    if g.chance(0.5):
        return [_zkey(g), g.pick(HRANDFIELD_COUNTS + HRANDFIELD_WITHVALUES_ONLY), g.case(b"withscores")] + (
            [b"x"] if g.chance(0.05) else []
        )
    return [_zkey(g), g.pick(HRANDFIELD_COUNTS)] + ([g.pick([b"FOO", b""])] if g.chance(0.05) else [])


def _zpop(g: Gen) -> List[bytes]:
    if g.chance(0.5):
        return [_zkey(g)]
    return [_zkey(g), g.pick([b"0", b"1", b"2", b"10", b"-1", b"abc", str(INT64_MAX).encode()])]


def _zremrangebyrank(g: Gen) -> List[bytes]:
    return [_zkey(g), g.integer(), g.integer()]


ZSCAN_OPTIONS = [
    (b"MATCH", lambda g: g.pick(PATTERNS[:20] + ZSET_MEMBERS)),
    (b"COUNT", lambda g: g.pick([b"10", b"100", b"1000", b"0", b"-1", str(INT64_MAX).encode(), b"abc"])),
]


ZSETS: List[Cmd] = [
    Cmd("zadd", 10, _zadd, writes=True),
    Cmd("zincrby", 3, lambda g: [_zkey(g), g.float_(), _zmember(g)], writes=True),
    Cmd("zscore", 3, lambda g: [_zkey(g), _zmember(g)]),
    Cmd("zmscore", 2, lambda g: [_zkey(g)] + [_zmember(g) for _ in range(g.r.randint(1, 3))]),
    Cmd("zcard", 2, lambda g: [_zkey(g)]),
    Cmd("zcount", 2, lambda g: [_zkey(g), _score_bound(g), _score_bound(g)]),
    Cmd("zlexcount", 1, lambda g: [g.pick(LEX_KEYS), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)]),
    Cmd("zrange", 4, lambda g: _zrange_lex(g) if g.chance(0.25) else _zrange_rank(g)),
    Cmd("zrangebyscore", 2, _zrangebyscore),
    Cmd("zrevrangebyscore", 2, _zrangebyscore),
    Cmd("zrangebylex", 1, _zrangebylex),
    Cmd("zrevrangebylex", 1, _zrangebylex),
    Cmd("zrevrange", 1, lambda g: [_zkey(g), g.integer(), g.integer()] + ([g.case(b"WITHSCORES")] if g.chance(0.5) else [])),
    Cmd("zrank", 2, lambda g: [_zkey(g), _zmember(g)]),
    Cmd("zrevrank", 1, lambda g: [_zkey(g), _zmember(g)]),
    Cmd("zrem", 3, lambda g: [_zkey(g) if g.chance(0.9) else g.pick(LEX_KEYS)] + [_zmember(g) for _ in range(g.r.randint(1, 3))], writes=True),
    Cmd("zpopmin", 2, _zpop, writes=True),
    Cmd("zpopmax", 1.5, _zpop),
    Cmd("zremrangebyrank", 1, _zremrangebyrank),
    Cmd("zremrangebyscore", 1, lambda g: [_zkey(g), _score_bound(g), _score_bound(g)]),
    Cmd("zremrangebylex", 0.5, lambda g: [g.pick(LEX_KEYS), g.pick(LEX_BOUNDS), g.pick(LEX_BOUNDS)]),
    Cmd("zrandmember", 1.5, _zrandmember, "random"),
    # A skiplist's order is its own in each server; few members, and COUNT never 1 to 9, so
    # Redis answers everything in one call (see HSCAN).
    Cmd("zscan", 1, lambda g: [_zkey(g), g.pick(HSCAN_CURSORS)] + g.options(ZSCAN_OPTIONS, 2), "hscan"),
    Cmd("zrangestore", 1.5, _zrangestore),
    Cmd("zmpop", 1.5, _zmpop),
    Cmd("zunion", 1.5, _zalgebra(store=False)),
    Cmd("zinter", 1.5, _zalgebra(store=False)),
    Cmd("zdiff", 1, _zalgebra(store=False, diff=True)),
    Cmd("zintercard", 1, _zalgebra(store=False, card=True)),
    Cmd("zunionstore", 1, _zalgebra(store=True)),
    Cmd("zinterstore", 1, _zalgebra(store=True)),
    Cmd("zdiffstore", 1, _zalgebra(store=True, diff=True)),
]

# --- server and connection ---------------------------------------------------

def _command_getkeys(g: Gen) -> List[bytes]:
    # SINTERCARD's keys follow its numkeys (Redis's movablekeys), which COMMAND here does not
    # describe: it is left out.
    row = g.pick(STRINGS + KEYS + HASHES + SORTING + [r for r in SETS if r.name != "sintercard"])
    return [b"GETKEYS", row.name.encode()] + row.gen(g)


def _config(g: Gen) -> List[bytes]:
    # Errors, and the settings whose effect the other families then compare: a small
    # hll-sparse-max-bytes turns sketches dense sooner (PFADD's bytes show it), and
    # lazyfree-lazy-user-flush changes only where FLUSHDB and FLUSHALL free.
    r = g.r.random()
    if r < 0.25:
        return [g.pick([b"FOO", b"GET"])]
    if r < 0.35:
        return [b"SET", b"nosuch", b"1"]
    if r < 0.75:
        return [b"SET", g.case(b"hll-sparse-max-bytes"),
                g.pick([b"0", b"100", b"3000", b"3000", b"1kb", b"-1", b"abc", str(2**63).encode()])]
    if r < 0.8:
        return [b"SET", b"lazyfree-lazy-user-flush", g.pick([b"yes", b"no", b"YES", b"maybe"])]
    if r < 0.9:
        # maxmemory is 0 or 1 byte only: both servers are always past 1 byte, so what is
        # evicted (everything the policy may take) and what is refused (OOM) is the same on
        # both; any other limit depends on each server's own memory. Each sequence starts
        # with no limit (differential.py).
        return g.pick([
            [b"SET", b"maxmemory", g.pick([b"0", b"0", b"1", b"1b", b"-1", b"abc", b"1xb", b"0kb"])],
            [b"SET", g.case(b"maxmemory-policy"), g.pick([
                b"noeviction", b"allkeys-lru", b"allkeys-lfu", b"allkeys-random", b"volatile-lru", b"volatile-lfu",
                b"volatile-random", b"volatile-ttl", b"ALLKEYS-LRU", b"lru", b""])],
            [b"SET", b"maxmemory-samples", g.pick([b"1", b"5", b"64", b"0", b"65", b"abc"])],
            [b"SET", b"maxmemory-eviction-tenacity", g.pick([b"0", b"10", b"100", b"101", b"-1"])],
            [b"SET", b"lfu-log-factor", g.pick([b"0", b"10", b"-1", b"2147483648"])],
            [b"SET", b"lfu-decay-time", g.pick([b"0", b"1", b"-1", b"x"])],
        ])
    return [b"GET", g.pick([b"hll-sparse-max-bytes", b"lazyfree-lazy-user-flush", b"hll-*", b"maxmemory-[pse]*",
                            b"lfu-*", b"maxmemory"])]


SERVER: List[Cmd] = [
    Cmd("dbsize", 2, lambda g: []),
    Cmd("flushdb", 0.3, lambda g: g.options([(b"ASYNC", None), (b"SYNC", None)], 1)),
    Cmd("flushall", 0.2, lambda g: g.options([(b"ASYNC", None), (b"SYNC", None)], 1)),
    Cmd("time", 0.3, lambda g: [], "shape"),
    Cmd("lastsave", 0.2, lambda g: [], "shape"),
    Cmd("command", 0.5, lambda g: _command_getkeys(g) if g.chance(0.8) else [g.pick([b"FOO", b"GETKEYS"])]),
    # CONFIG GET of a pattern lists parameters in the order of Redis's dictionary: compared
    # as a set of name-value pairs.
    Cmd("config", 0.4, _config, "pairs"),
]

CONNECTION: List[Cmd] = [
    Cmd("ping", 1, lambda g: [] if g.chance(0.5) else ([g.value()] if g.chance(0.9) else [b"a", b"b"])),
    Cmd("echo", 1, lambda g: [g.value()]),
    Cmd("select", 1.5, lambda g: [g.pick([b"0", b"0", b"1", b"2", b"16", b"-1", b"abc", b"1.0", b" 1", b"+1", b"01"])]),
    Cmd("hello", 0.5, lambda g: [] if g.chance(0.2) else [g.pick([b"2", b"3", b"3", b"4", b"1", b"abc", b"-1"])], "hello"),
    Cmd("auth", 0.2, lambda g: [b"pw"] if g.chance(0.5) else [b"default", b"pw"]),
    Cmd("client", 0.5, lambda g: g.pick([
        [b"SETNAME", g.pick([b"conn", b"", b"a b", b"x\ny", b"ok-name"])], [b"GETNAME"],
        [b"NO-EVICT", g.pick([b"on", b"off", b"maybe"])], [b"FOO"], [b"SETNAME"],
    ])),
    Cmd("reset", 0.2, lambda g: []),
]

# --- transactions ------------------------------------------------------------

TRANSACTIONS: List[Cmd] = [
    Cmd("multi", 0.3, lambda g: []),
    Cmd("exec", 0.3, lambda g: []),
    Cmd("discard", 0.3, lambda g: []),
    Cmd("watch", 0.5, lambda g: g.keys(1, 3)),
    Cmd("unwatch", 0.3, lambda g: []),
]

# --- keyspace and introspection ----------------------------------------------

DB_INDEXES = [b"0", b"1", b"2", b"0", b"1", b"16", b"-1", b"abc", str(INT64_MAX).encode(), b"2147483648"]

COPY_OPTIONS = [(b"DB", lambda g: g.pick(DB_INDEXES)), (b"REPLACE", None)]
LCS_OPTIONS = [
    (b"LEN", None), (b"IDX", None), (b"WITHMATCHLEN", None),
    (b"MINMATCHLEN", lambda g: g.pick([b"0", b"1", b"2", b"4", b"-1", b"abc", str(INT64_MAX).encode()])),
]

KEYSPACE: List[Cmd] = [
    Cmd("copy", 1, lambda g: [g.key(), g.key()] + g.options(COPY_OPTIONS, 2)),
    Cmd("move", 1, lambda g: [g.key(), g.pick(DB_INDEXES)], writes=True),
    Cmd("swapdb", 0.3, lambda g: [g.pick(DB_INDEXES), g.pick(DB_INDEXES)]),
    Cmd("lcs", 1, lambda g: [g.key(), g.key()] + g.options(LCS_OPTIONS, 3)),
    # OBJECT's figures follow how a value was written (documented: kvs derives a string's
    # ENCODING from the bytes, keeps no idle time) and MEMORY's from the allocator: replies
    # compare by shape, errors whole, and a collection's encoding exactly.
    Cmd("object", 0.5, lambda g: g.pick([
        [b"ENCODING", g.key()], [b"REFCOUNT", g.key()], [b"IDLETIME", g.key()], [b"FREQ", g.key()],
        [b"HELP"], [b"ENCODING"], [b"FOO", g.key()],
    ]), "object"),
    Cmd("memory", 0.3, lambda g: g.pick([
        [b"USAGE", g.key()], [b"USAGE", g.key(), b"SAMPLES", g.pick([b"0", b"5", b"-1", b"abc"])], [b"HELP"],
        [b"USAGE"], [b"FOO"], [b"DOCTOR", b"x"],
    ]), "shape"),
    # Which commands are slow is timing: SLOWLOG is asked only what timing cannot change.
    Cmd("slowlog", 0.2, lambda g: g.pick([
        [b"GET", b"0"], [b"GET", g.pick([b"-2", b"abc", b"1.5"])], [b"RESET"], [b"HELP"], [b"LEN", b"x"], [b"FOO"],
    ])),
    Cmd("latency", 0.2, lambda g: g.pick([
        [b"LATEST"], [b"HISTORY", b"command"], [b"RESET"], [b"HELP"], [b"DOCTOR"], [b"HISTORY"], [b"FOO"],
    ])),
]

# --- bitmaps -----------------------------------------------------------------

# Bit offsets: mostly small so values stay small, sometimes up to ~100,000 bits, plus the
# invalid ones (negative, past Redis's 2^32 - 1 limit, malformed). Valid offsets near the limit
# are never sent: each would make both servers build a 512 MiB string.
BIT_OFFSET_EDGES: List[bytes] = [
    b"-1", b"4294967296", str(INT64_MAX).encode(), str(INT64_MIN).encode(), b"abc", b"1.0", b" 1", b"+1", b"",
]


def _bit_offset(g: Gen) -> bytes:
    if g.chance(0.05):
        return g.pick(BIT_OFFSET_EDGES)
    if g.chance(0.03):
        return str(g.r.randint(0, 100_000)).encode()
    return str(g.r.randint(0, 1000)).encode()


def _bit_range(g: Gen) -> List[bytes]:
    """BITCOUNT/BITPOS start and end: small, negative, huge, malformed."""
    def index() -> bytes:
        if g.chance(0.7):
            return g.small_int(-150, 150)
        return g.pick(INT_EDGES)
    return [index(), index()]


def _bitcount(g: Gen) -> List[bytes]:
    if g.chance(0.25):
        return [g.key()]
    args = [g.key()] + _bit_range(g)
    if g.chance(0.5):
        args.append(g.case(g.pick([b"bit", b"byte", b"bits", b""])))
    if g.chance(0.03):
        args = args[:2]  # start without end: a syntax error
    return args


def _bitpos(g: Gen) -> List[bytes]:
    args = [g.key(), g.pick([b"0", b"1", b"1", b"0", b"2", b"-1", b"x"])]
    n = g.r.choice([0, 1, 2, 2, 3])
    rng = _bit_range(g)
    if n >= 1:
        args.append(rng[0])
    if n >= 2:
        args.append(rng[1])
    if n >= 3:
        args.append(g.case(g.pick([b"bit", b"byte", b"x"])))
    return args


def _bitop(g: Gen) -> List[bytes]:
    op = g.case(g.pick([b"and", b"or", b"xor", b"not", b"not", b"nand"]))
    return [op, g.key()] + g.keys(1, 3)


BITFIELD_TYPES: List[bytes] = [
    b"u1", b"u4", b"u8", b"i8", b"i5", b"u16", b"i16", b"i32", b"u31", b"i63", b"i64", b"u63",
    b"u64", b"i65", b"i0", b"u0", b"I8", b"8", b"", b"ix",
]


def _bitfield_offset(g: Gen) -> bytes:
    if g.chance(0.25):
        return b"#" + g.small_int(0, 40)
    if g.chance(0.05):
        return g.pick([b"#-1", b"#" + str(2**61 + 1).encode()] + BIT_OFFSET_EDGES)
    return str(g.r.randint(0, 300)).encode()


def _bitfield_value(g: Gen) -> bytes:
    if g.chance(0.6):
        return g.small_int(-300, 300)
    return g.pick(INT_EDGES)


def _bitfield(read_only: bool) -> Callable[[Gen], List[bytes]]:
    def gen(g: Gen) -> List[bytes]:
        args = [g.key()]
        for _ in range(g.r.randint(0, 4)):
            kind = g.pick([b"GET", b"GET", b"SET", b"INCRBY", b"OVERFLOW"] if not read_only else [b"GET"] * 6 + [b"SET"])
            if kind == b"GET":
                args += [g.case(kind), g.pick(BITFIELD_TYPES[:12]) if g.chance(0.95) else g.pick(BITFIELD_TYPES), _bitfield_offset(g)]
            elif kind == b"OVERFLOW":
                args += [g.case(kind), g.case(g.pick([b"wrap", b"sat", b"fail", b"fail", b"x"]))]
            else:
                args += [g.case(kind), g.pick(BITFIELD_TYPES[:12]) if g.chance(0.95) else g.pick(BITFIELD_TYPES),
                         _bitfield_offset(g), _bitfield_value(g)]
        if g.chance(0.04) and len(args) > 1:
            args.pop()  # a truncated operation: a syntax error
        return args
    return gen


BITMAPS: List[Cmd] = [
    Cmd("setbit", 5, lambda g: [g.key(), _bit_offset(g), g.pick([b"0", b"1", b"1", b"2", b"-1", b"x"])], writes=True),
    Cmd("getbit", 3, lambda g: [g.key(), _bit_offset(g)]),
    Cmd("bitcount", 3, _bitcount),
    Cmd("bitpos", 3, _bitpos),
    Cmd("bitop", 2, _bitop),
    Cmd("bitfield", 4, _bitfield(False), writes=True),
    Cmd("bitfield_ro", 1, _bitfield(True)),
]

# --- HyperLogLog -------------------------------------------------------------

# Elements from a small pool (so adds repeat and registers hit their old values), and now and
# then a batch of thousands (so a sketch outgrows the sparse encoding and turns dense).
HLL_ELEMENTS: List[bytes] = [str(i).encode() for i in range(40)] + [b"", b"\x00", b"a" * 100, b"\xff\xfe"]


def _pfadd(g: Gen) -> List[bytes]:
    if g.chance(0.02):
        base = g.r.randint(0, 10**6)
        return [g.key()] + [str(base + i).encode() for i in range(g.r.randint(500, 3000))]
    return [g.key()] + [g.pick(HLL_ELEMENTS) for _ in range(g.r.randint(0, 5))]


HYPERLOGLOGS: List[Cmd] = [
    Cmd("pfadd", 5, _pfadd, writes=True),
    Cmd("pfcount", 3, lambda g: g.keys(1, 3)),
    Cmd("pfmerge", 2, lambda g: g.keys(1, 4), writes=True),
]

# --- blocking pops ----------------------------------------------------------

# The harness has one connection per server, so a blocking command must never wait for
# another client: every timeout is short (or invalid), never 0. On empty keys both servers
# answer null after it; on keys with data they pop at once.
BLOCKING_TIMEOUTS: List[bytes] = [b"0.01", b"0.01", b"0.001", b"0.02", b"-1", b"abc", b"inf", b"1e20", b"nan", b""]


def _block_timeout(g: Gen) -> bytes:
    return g.pick(BLOCKING_TIMEOUTS)


def _blocking_multipop(ends: List[bytes]) -> Callable[[Gen], List[bytes]]:
    def gen(g: Gen) -> List[bytes]:
        out = [_block_timeout(g)] + _numkeys(g, g.keys(1, 3)) + [g.case(g.pick(ends))]
        if g.chance(0.4):
            out += [g.case(b"COUNT"), g.pick([b"1", b"2", b"5", b"0", b"-1", b"abc"])]
        return out
    return gen


BLOCKING: List[Cmd] = [
    Cmd("blpop", 2, lambda g: g.keys(1, 3) + [_block_timeout(g)], writes=True),
    Cmd("brpop", 2, lambda g: g.keys(1, 3) + [_block_timeout(g)], writes=True),
    Cmd("blmpop", 1, _blocking_multipop([b"LEFT", b"RIGHT", b"UP"])),
    Cmd(
        "blmove",
        1,
        lambda g: [g.key(), g.key()] + [g.case(g.pick([b"LEFT", b"RIGHT", b"UP"])) for _ in range(2)]
        + [_block_timeout(g)],
        writes=True,
    ),
    Cmd("brpoplpush", 1, lambda g: [g.key(), g.key(), _block_timeout(g)], writes=True),
    Cmd("bzpopmin", 1, lambda g: g.keys(1, 3) + [_block_timeout(g)], writes=True),
    Cmd("bzpopmax", 1, lambda g: g.keys(1, 3) + [_block_timeout(g)], writes=True),
    Cmd("bzmpop", 1, _blocking_multipop([b"MIN", b"MAX", b"MID"])),
]

# --- SORT, DUMP and RESTORE -------------------------------------------------

# BY and GET patterns over the key space: `k:*` finds k:1 and k:2 from the elements 1 and 2,
# `*` the keys a, b, c; `->` names a hash field (also at the very end, where it is part of
# the key name); a second `*` is literal; a NUL byte ends what Redis searches.
SORT_STAR_PATTERNS: List[bytes] = [
    b"k:*", b"*", b"k:*->f", b"*->g", b"*->", b"k:*->", b"**", b"*->\x00\xff\r\n", b"k:*\x00x", b"{a}*",
]
# Patterns without `*` (before any NUL): as BY they skip sorting; as GET, `#` is the element.
SORT_PLAIN_PATTERNS: List[bytes] = [b"nosort", b"", b"#", b"x\x00*", b"#\x00", b"->f"]
SORT_LIMITS: List[bytes] = [
    b"0", b"1", b"2", b"-1", b"5", b"100", str(INT64_MAX).encode(), str(INT64_MIN).encode(), b"abc", b"",
]


def _sort(read_only: bool) -> Callable[[Gen], List[bytes]]:
    """SORT and SORT_RO, only in forms whose reply order Redis defines: a set left unsorted
    (BY without `*`) is answered in its hashtable's order, so BY without `*` comes with STORE
    only (a stored set is sorted); ALPHA compares with `strcoll` unless it stores, and leaves
    equal BY values in `qsort`'s order, so ALPHA comes with STORE and no `*` pattern only."""

    def gen(g: Gen) -> List[bytes]:
        store = not read_only and g.chance(0.5)
        alpha = store and g.chance(0.4)
        groups: List[List[bytes]] = []
        if g.chance(0.5):
            if alpha or (store and g.chance(0.3)):
                groups.append([g.case(b"BY"), g.pick(SORT_PLAIN_PATTERNS)])
            elif not alpha:
                groups.append([g.case(b"BY"), g.pick(SORT_STAR_PATTERNS)])
        if g.chance(0.4):
            groups.append([g.case(b"LIMIT"), g.pick(SORT_LIMITS), g.pick(SORT_LIMITS)])
        for _ in range(g.r.randint(0, 2)):
            groups.append([g.case(b"GET"), g.pick(SORT_STAR_PATTERNS + SORT_PLAIN_PATTERNS)])
        if g.chance(0.4):
            groups.append([g.case(g.pick([b"ASC", b"DESC"]))])
        if alpha:
            groups.append([g.case(b"ALPHA")])
        if store:
            groups.append([g.case(b"STORE"), g.key()])
        g.r.shuffle(groups)
        out = [g.key()] + [a for group in groups for a in group]
        if g.chance(0.05):
            out += g.pick([[b"FOO"], [b"LIMIT", b"1"], [b"GET"], [b"BY"], [b"STORE"], [b"STORE", b"a"]])
        return out

    return gen


# Payloads RESTORE refuses: each server's DUMP payloads are its own (kvs's are not RDB), so
# a real round trip is the DUMP-RESTORE pseudo-command below; these reach every error.
# (Twenty NUL bytes are not among them: Redis reads them as an empty string, version 0 with
# a CRC-64 of 0.)
RESTORE_GARBAGE: List[bytes] = [b"", b"x", b"\x00\x01v", b"\x01" * 20, b"garbage-payload"]
RESTORE_TTLS: List[bytes] = [b"0", b"0", b"100000000", b"-1", b"abc", str(INT64_MAX).encode(), b"1.5"]
RESTORE_OPTIONS = [
    (b"REPLACE", None), (b"ABSTTL", None),
    (b"IDLETIME", lambda g: g.pick([b"0", b"100", b"-1", b"abc"])),
    (b"FREQ", lambda g: g.pick([b"0", b"255", b"256", b"-1", b"abc"])),
]


def _restore_options(g: Gen) -> List[bytes]:
    return g.options(RESTORE_OPTIONS, 2)


def _restore_ttl(g: Gen, absolute: bool) -> bytes:
    if absolute:
        return g.pick([b"0", b"1", b"4000000000000"])
    return g.pick([b"0", b"0", b"100000000", b"-1", b"abc"])


def dump_restore(g: Gen) -> Tuple[bytes, ...]:
    """The DUMP-RESTORE pseudo-command: DUMP a key on each server, then RESTORE its own
    payload there under another key (or the same, with REPLACE); the replies are compared,
    and the keyspace comparison checks what was restored."""
    opts = _restore_options(g)
    absolute = any(o.upper() == b"ABSTTL" for o in opts)
    return (DUMP_RESTORE, g.key(), g.key(), _restore_ttl(g, absolute)) + tuple(opts)


SORTING: List[Cmd] = [
    Cmd("sort", 3, _sort(read_only=False)),
    Cmd("sort_ro", 1.5, _sort(read_only=True)),
    # A payload is each server's own: compared by null or not.
    Cmd("dump", 1, lambda g: [g.key()], "nullness"),
    Cmd("restore", 1, lambda g: [g.key(), g.pick(RESTORE_TTLS), g.pick(RESTORE_GARBAGE)] + _restore_options(g)),
]

FAMILIES: List[List[Cmd]] = [
    STRINGS, HASHES, LISTS, SETS, ZSETS, BLOCKING, KEYS, KEYSPACE, SERVER, CONNECTION, TRANSACTIONS, BITMAPS,
    HYPERLOGLOGS, SORTING,
]

# Commands kvs-server implements that the grammar never sends, each with the reason. The
# harness fails in CI mode when COMMAND LIST names a command that is neither generated nor here.
NOT_GENERATED = {
    "info": "the reply is server statistics (uptime, memory, clients), not comparable",
    "save": "writes a snapshot file; nothing to compare but OK",
    "bgsave": "forks or runs in the background; the reply races with the save itself",
    "shutdown": "stops the server",
    "quit": "closes the connection, ending the sequence",
    "monitor": "turns the connection into a stream of the other clients' commands, with timestamps",
}

# Errors compared by their first word only: {(command, first word): reason}. Empty: every error
# text is compared whole. Add a row only for a wording kvs cannot match, with the reason.
ERROR_CODE_ONLY: Dict[Tuple[str, str], str] = {}

# Commands never sent with a wrong number of arguments, each with the reason.
ARITY_KEPT = {
    "command": "a bare COMMAND lists every command: not comparable",
    "zrank": "kvs takes Redis 7.2's ZRANK ... WITHSCORE (arity -3); the oracle, 7.0, has arity 3",
    "zrevrank": "as zrank",
}
# A blocking command's last argument is its timeout: an argument added at the end could be
# 0, which blocks the harness's only connection for good.
ARITY_KEPT.update({row.name: "its timeout must stay short" for row in BLOCKING})

# Pseudo-command: a complete SCAN iteration on both servers with the same options, compared
# as a set of keys (kvs's cursor names a shard and COUNT is a hint, so single calls differ).
SCAN_ALL = b"SCAN-ALL"
# Pseudo-command: DUMP a key, then RESTORE that payload on the same server (see dump_restore).
DUMP_RESTORE = b"DUMP-RESTORE"

ALL_ROWS: List[Cmd] = [row for fam in FAMILIES for row in fam]
BY_NAME = {row.name: row for row in ALL_ROWS}

Step = Tuple[int, Tuple[bytes, ...]]  # (connection index, arguments)


class Grammar:
    """Draws commands and whole sequences from the table, restricted to `available` commands."""

    def __init__(self, available: Optional[set] = None) -> None:
        rows = [r for r in ALL_ROWS if available is None or r.name in available]
        self.rows = rows
        self.weights = [r.weight for r in rows]
        self.queueable = [r for r in rows if r.name not in ("multi", "exec", "discard", "watch", "reset", "select")]
        self.queueable_weights = [r.weight for r in self.queueable]
        self.writers = [r for r in rows if r.writes]
        self.dump_restore = available is None or {"dump", "restore"} <= available

    def command(self, g: Gen, rows=None, weights=None) -> Tuple[bytes, ...]:
        rows = rows or self.rows
        weights = weights or self.weights
        row = g.r.choices(rows, weights)[0]
        args = [g.case(row.name.encode())] + row.gen(g)
        if g.chance(0.02) and row.name not in ARITY_KEPT:
            args = _mangle_arity(g, args)
        return tuple(args)

    def scan_all(self, g: Gen) -> Tuple[bytes, ...]:
        opts: List[bytes] = []
        if g.chance(0.6):
            opts += [b"MATCH", g.pattern()]
        if g.chance(0.3):
            opts += [b"TYPE", g.pick([b"string", b"list", b"hash", b"set", b"zset", b"none"])]
        if g.chance(0.5):
            opts += [b"COUNT", g.pick([b"1", b"3", b"100"])]
        return (SCAN_ALL,) + tuple(opts)

    def transaction(self, g: Gen, watch: bool) -> List[Step]:
        """A MULTI/EXEC block; with `watch`, WATCH first and a second connection that may write a watched key."""
        steps: List[Step] = []
        watched: List[bytes] = []
        if watch:
            watched = g.keys(1, 3)
            steps.append((0, (b"WATCH",) + tuple(watched)))
            for _ in range(g.r.randint(0, 2)):
                steps.append((0, self.command(g, self.queueable, self.queueable_weights)))
            if g.chance(0.6) and self.writers:
                row = g.pick(self.writers)
                args = [row.name.encode()] + row.gen(g)
                if g.chance(0.7) and len(args) > 1:
                    args[1] = g.pick(watched)
                steps.append((1, tuple(args)))
        steps.append((0, (b"MULTI",)))
        for _ in range(g.r.randint(0, 6)):
            if g.chance(0.05):
                steps.append((0, g.pick([(b"MULTI",), (b"WATCH", g.key()), (b"NOSUCHCMD", b"x"), (b"GET",),
                                          (b"SET", b"a"), (b"SELECT", b"1")])))
            else:
                steps.append((0, self.command(g, self.queueable, self.queueable_weights)))
            if watch and g.chance(0.1) and self.writers:
                row = g.pick(self.writers)
                steps.append((1, tuple([row.name.encode()] + row.gen(g))))
        steps.append((0, (b"DISCARD",) if g.chance(0.1) else (b"EXEC",)))
        return steps

    def sequence(self, rng: random.Random, length: int) -> List[Step]:
        """A random sequence of about `length` steps; step = (connection 0 or 1, arguments)."""
        g = Gen(rng)
        steps: List[Step] = []
        if g.chance(0.3):
            steps.append((0, (b"HELLO", b"3")))
        while len(steps) < length:
            x = g.r.random()
            if x < 0.06:
                steps += self.transaction(g, watch=g.chance(0.5))
            elif x < 0.09:
                steps.append((0, self.scan_all(g)))
            elif x < 0.10 and self.dump_restore:
                steps.append((0, dump_restore(g)))
            elif x < 0.12:
                steps.append((1, self.command(g)))
            else:
                steps.append((0, self.command(g)))
        return steps


def _mangle_arity(g: Gen, args: List[bytes]) -> List[bytes]:
    """Wrong arity: drop arguments, or add some."""
    if g.chance(0.5) and len(args) > 1:
        return args[: g.r.randrange(1, len(args))]
    return args + [g.value() for _ in range(g.r.randint(1, 3))]
