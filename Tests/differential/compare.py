"""Comparison rules: how two replies (Redis's and kvs's) are judged equal, and keyspace dumps.

Each rule maps a reply to a canonical form; two replies agree when their forms are equal.
"exact" keeps the reply whole (its RESP type and value), so a simple string never equals a
bulk string and a RESP2 null bulk never equals a RESP3 null. The other rules exist only for
replies that carry time, identity or an order Redis does not promise.
"""

from typing import Callable, Dict, List, Optional, Tuple

from grammar import BY_NAME, ERROR_CODE_ONLY, SCAN_ALL
from resp import Connection, Reply, quote_arg

def _error(reply: Reply, command: str):
    text = reply.value
    code = text.split(b" ", 1)[0]
    if (command, code.decode("latin-1")) in ERROR_CODE_ONLY:
        return ("error-code", code)
    return reply


def exact(reply: Reply):
    return reply


def ttl(reply: Reply):
    """TTL, PTTL, EXPIRETIME, PEXPIRETIME: -1 and -2 exactly, any other integer by sign."""
    if reply.kind == "int" and reply.value >= 0:
        return ("int", "non-negative")
    return reply


def as_set(reply: Reply):
    """KEYS (and other unordered replies): the elements as a sorted multiset, type kept."""
    if reply.kind in ("array", "set"):
        return (reply.kind, tuple(sorted(reply.value, key=repr)))
    return reply


def nullness(reply: Reply):
    """RANDOMKEY: null or not (and the reply type), not which key."""
    if reply.kind == "bulk":
        return ("bulk", "some key")
    return reply


def shape(reply: Reply):
    """TIME, LASTSAVE: the reply's type and structure, not its (clock) values."""
    if reply.kind in ("array", "set", "push"):
        return (reply.kind, tuple(shape(x) for x in reply.value))
    if reply.kind in ("int", "bulk", "simple", "double", "bignum"):
        return (reply.kind, "any")
    return reply


def scan(reply: Reply):
    """One SCAN call: errors exactly; otherwise [cursor (bulk), keys (array)] by shape only."""
    if reply.kind == "array" and len(reply.value) == 2:
        cursor, keys = reply.value
        return ("array", cursor.kind, keys.kind)
    return reply


def pairs(reply: Reply):
    """HGETALL: the field-value pairs as a sorted multiset (a RESP2 array or a RESP3 map)."""
    return _pairs_set(reply)


def random_(reply: Reply):
    """HRANDFIELD: which elements is chance; the reply's type, length and nesting are not."""
    if reply.kind in ("array", "set"):
        return (reply.kind, len(reply.value), tuple(random_(x) for x in reply.value))
    if reply.kind == "bulk":
        return ("bulk", "some element")
    return reply


def hscan(reply: Reply):
    """HSCAN: the cursor exactly, the pairs as a sorted multiset (a hashtable's order is its own)."""
    if reply.kind == "array" and len(reply.value) == 2 and reply.value[1].kind == "array":
        cursor, items = reply.value
        v = items.value
        return ("hscan", cursor, tuple(sorted(zip(v[0::2], v[1::2]), key=repr)))
    return reply


def sscan(reply: Reply):
    """SSCAN: the cursor exactly, the members as a sorted multiset (a hashtable's order is its own)."""
    if reply.kind == "array" and len(reply.value) == 2 and reply.value[1].kind == "array":
        cursor, items = reply.value
        return ("sscan", cursor, tuple(sorted(items.value, key=repr)))
    return reply


# Encodings of collections, which OBJECT ENCODING must name as Redis does; a string's
# (int, embstr, raw) follows how it was written in Redis and is compared by type only.
COLLECTION_ENCODINGS = {b"listpack", b"hashtable", b"quicklist", b"intset", b"skiplist"}


# A list's encodings: Redis 7.0 names every list `quicklist`; kvs-server follows Redis 7.2,
# which names a small list `listpack` (docs/design/server-value-types.md). Either answer for
# a list compares equal to the other; a hash's `listpack` stays distinct from `hashtable`.
LIST_ENCODINGS = {b"listpack", b"quicklist"}


def object_(reply: Reply):
    """OBJECT: a collection's ENCODING exactly (a list's as listpack-or-quicklist), anything else by shape."""
    if reply.kind == "bulk" and reply.value in LIST_ENCODINGS:
        return ("bulk", "listpack or quicklist")
    if reply.kind == "bulk" and reply.value in COLLECTION_ENCODINGS:
        return reply
    return shape(reply)


HELLO_IDENTITY = {b"server", b"version", b"id"}


def hello(reply: Reply):
    """HELLO: every field but the server's name, version and the connection id."""
    if reply.kind == "map":
        pairs = reply.value
    elif reply.kind == "array" and len(reply.value) % 2 == 0:
        v = reply.value
        pairs = tuple(zip(v[0::2], v[1::2]))
    else:
        return reply
    return (reply.kind, tuple((k, "any" if k.value in HELLO_IDENTITY else val) for k, val in pairs))


RULES: Dict[str, Callable[[Reply], object]] = {
    "exact": exact,
    "ttl": ttl,
    "set": as_set,
    "nullness": nullness,
    "shape": shape,
    "scan": scan,
    "hello": hello,
    "pairs": pairs,
    "random": random_,
    "hscan": hscan,
    "sscan": sscan,
    "object": object_,
    # Not compared at all, errors included (a queued reply known to depend on Redis's state).
    "any": lambda reply: "any",
}


def command_name(args) -> str:
    return args[0].decode("latin-1").lower() if args else ""


def rule_for(args) -> str:
    row = BY_NAME.get(command_name(args))
    return row.compare if row else "exact"


def canonical(reply: Reply, rule: str, command: str):
    if reply.kind == "error":
        return _error(reply, command)
    return RULES[rule](reply)


def compare_exec(redis: Reply, kvs: Reply, queued: List[tuple]) -> Optional[str]:
    """EXEC's reply element by element with each queued command's rule.

    `queued` holds (rule, command name, ...) per queued command. Returns None when they agree, else the name of the first queued command whose reply
    differs ("exec" itself when the replies differ as a whole).
    """
    if redis.kind != "array" or kvs.kind != "array" or len(redis.value) != len(queued):
        return None if canonical(redis, "exact", "exec") == canonical(kvs, "exact", "exec") else "exec"
    if len(kvs.value) != len(redis.value):
        return "exec"
    for (rule, name, *_), a, b in zip(queued, redis.value, kvs.value):
        if rule == "any":
            continue
        if canonical(a, rule, name) != canonical(b, rule, name):
            return "exec/" + name
    return None


# --- keyspace ----------------------------------------------------------------

# How to read a key of each type for the keyspace comparison: (command builder, rule).
DUMP_BY_TYPE: Dict[bytes, Tuple[Callable[[bytes], tuple], Callable[[Reply], object]]] = {
    b"string": (lambda k: (b"GET", k), exact),
    b"list": (lambda k: (b"LRANGE", k, b"0", b"-1"), exact),
    b"hash": (lambda k: (b"HGETALL", k), lambda r: _pairs_set(r)),  # field order is not promised
    b"set": (lambda k: (b"SMEMBERS", k), as_set),
    b"zset": (lambda k: (b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"), exact),
}


def _pairs_set(reply: Reply):
    if reply.kind == "map":
        return ("pairs", tuple(sorted(reply.value, key=repr)))
    if reply.kind == "array":
        v = reply.value
        return ("pairs", tuple(sorted(zip(v[0::2], v[1::2]), key=repr)))
    return reply


def _pipeline(conn: Connection, commands) -> List[Reply]:
    for args in commands:
        conn.send(args)
    return [conn.read_reply() for _ in commands]


def dump_keyspace(conn: Connection, dbs) -> Dict[int, Dict[bytes, tuple]]:
    """Every key of `dbs` (RESP2): its TYPE, its value (as its type's rule sees it), TTL by sign.

    The commands for all keys of a database are pipelined (a dump runs after every sequence).
    """
    out: Dict[int, Dict[bytes, tuple]] = {}
    for db in dbs:
        r = conn.call(b"SELECT", str(db).encode())
        if r.kind == "error":
            continue
        keys = conn.call(b"KEYS", b"*")
        if keys.kind != "array":
            out[db] = {b"<KEYS * failed>": (keys,)}
            continue
        names = [k.value for k in keys.value]
        types = _pipeline(conn, [(b"TYPE", k) for k in names])
        readers = [DUMP_BY_TYPE.get(t.value) for t in types]
        commands = []
        for key, reader in zip(names, readers):
            commands.append(reader[0](key) if reader else (b"PING",))
            commands.append((b"PTTL", key))
        replies = _pipeline(conn, commands)
        entry: Dict[bytes, tuple] = {}
        for i, (key, typ, reader) in enumerate(zip(names, types, readers)):
            value = reader[1](replies[2 * i]) if reader else ("unreadable type",)
            entry[key] = (typ, value, ttl(replies[2 * i + 1]))
        out[db] = entry
    conn.call(b"SELECT", b"0")
    return out


def diff_keyspace(redis: Dict[int, Dict[bytes, tuple]], kvs: Dict[int, Dict[bytes, tuple]]) -> Tuple[List[str], str]:
    """Human-readable differences between two dumps (empty when equal), and what the first one
    is (a key missing on one side, or its type, value or TTL differing)."""
    lines: List[str] = []
    what = ""
    for db in sorted(set(redis) | set(kvs)):
        a, b = redis.get(db, {}), kvs.get(db, {})
        for key in sorted(set(a) | set(b)):
            x, y = a.get(key), b.get(key)
            if x == y:
                continue
            lines.append("db %d key %s: redis %s, kvs %s" % (db, quote_arg(key), _entry_text(x), _entry_text(y)))
            if not what:
                if x is None or y is None:
                    what = "key only in " + ("kvs" if x is None else "redis")
                else:
                    what = next(n for n, p, q in zip(("type", "value", "ttl"), x, y) if p != q) + " differs"
    return lines, what


def _entry_text(entry) -> str:
    if entry is None:
        return "missing"
    typ, value, ttl_sign = entry
    return "%s %r ttl %r" % (typ.value.decode("latin-1") if typ.kind == "simple" else typ, value, ttl_sign)


def scan_all(conn: Connection, options) -> Tuple[str, object]:
    """A complete SCAN iteration: ("keys", frozenset) or ("error", reply) or ("bad", reply)."""
    cursor = b"0"
    seen = set()
    for _ in range(100000):
        r = conn.call(b"SCAN", cursor, *options)
        if r.kind == "error":
            return ("error", r)
        if r.kind != "array" or len(r.value) != 2 or r.value[0].kind != "bulk" or r.value[1].kind != "array":
            return ("bad", r)
        cursor = r.value[0].value
        seen.update(x.value for x in r.value[1].value)
        if cursor == b"0":
            return ("keys", frozenset(seen))
    return ("bad", "SCAN did not finish in 100000 calls")

