#!/usr/bin/env python3
"""Differential test: kvs-server against a real redis-server, reply by reply.

Starts both servers on free ports, sends the same seeded random command sequences to both
(grammar.py), compares every reply by its RESP type and value (compare.py), then each touched
database's whole keyspace, and FLUSHALLs both. A divergence, a crash or a hang is minimised by
delta debugging to a short reproduction, printed as redis-cli lines with both replies.

    python3 Tests/differential/differential.py --ci                     # fixed seeds, a few minutes
    python3 Tests/differential/differential.py --seed 7 --commands 1000000   # long mode

Standard library only. See docs/kvs-server.md, "Differential testing".
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import canonical, command_name, compare_exec, diff_keyspace, dump_keyspace, rule_for, scan_all  # noqa: E402
from grammar import BY_NAME, DUMP_RESTORE, KEY_SPACE, NOT_GENERATED, SCAN_ALL, Grammar, Step  # noqa: E402
from resp import Connection, ConnectionLost, Reply, format_reply, quote_arg  # noqa: E402

# Where kvs-server deliberately differs from Redis, so the harness does not compare it. Each
# entry is also listed under "Known differences from Redis" in docs/kvs-server.md. A
# divergence that is a bug does not belong here: it is reported.
EXCLUSIONS: Dict[str, str] = {
    "scan-cursor": "SCAN's cursor names a shard and COUNT is a hint (whole shards are returned), so single "
                   "SCAN calls are compared by shape and errors only; a complete iteration (SCAN-ALL) is "
                   "compared as a set of keys against Redis's.",
    "dbsize-expired": "Redis's DBSIZE also counts keys whose deadline has passed until lazy or active expiry "
                      "reclaims them (SET with a past EXAT/PXAT leaves one in Redis 7.0), so its figure depends "
                      "on timing; kvs removes such a key at once. Before a DBSIZE (or an EXEC that queued "
                      "one) the harness makes Redis reclaim expired keys (EXISTS on every key), and inside "
                      "EXEC a DBSIZE after a queued command with EXAT/PXAT is not compared. The same reclaiming "
                      "precedes a complete SCAN iteration, since Redis 7.0's SCAN TYPE none returns such keys, "
                      "and MEMORY, whose USAGE sizes them.",
    "client-setinfo": "CLIENT SETINFO is a Redis 7.2 subcommand that kvs accepts (client libraries send it on "
                      "connecting); the oracle (redis-server 7.0.15) answers 'unknown subcommand', so it is not sent.",
    "sort-stale-errno": "Redis 7.0's numeric SORT tests errno after strtod without clearing it first, so after "
                        "any command that left errno at ERANGE (ZADD 1e-400, INCRBYFLOAT 1e400, ...) it answers "
                        "'One or more scores can't be converted into double' for valid numbers. Before a SORT or "
                        "SORT_RO (or an EXEC that queued one) the harness clears Redis's errno with a ZADD XX "
                        "of a valid score on a key outside the key space, which writes nothing; inside EXEC a "
                        "SORT queued after such a command is not compared.",
    "far-future-deadlines": "kvs keeps deadlines as nanoseconds in 64 bits, so an absolute expiry after 2262-04-11 "
                            "is stored as that instant (EXPIRETIME and GT/LT then see it); the grammar's absolute "
                            "times stay before it (EXPIRE_ABSOLUTE, EXPIRE_ABSOLUTE_MS).",
}

# The databases compared at the end of every sequence (the grammar SELECTs only 0 to 2).
DATABASES = (0, 1, 2)

# CI mode: 200,000 commands, about 30 s per 72,000 when nothing diverges (redis-server against
# itself on a 2-core machine); at most CI_MINIMISED divergences are minimised, the rest counted.
CI_SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)
CI_COMMANDS = 25000
CI_MINIMISED = 10

REDIS_TIMEOUT = 30.0


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One server process we started: its port, a temporary folder, and restart on demand."""

    def __init__(self, name: str, argv_for_port: Callable[[int, str], List[str]], timeout: float) -> None:
        self.name = name
        self.argv_for_port = argv_for_port
        self.timeout = timeout
        self.dir = tempfile.mkdtemp(prefix="differential-%s." % name)
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.starts = 0

    def start(self) -> None:
        last = ""
        for _ in range(5):
            self.port = free_port()
            log = open(os.path.join(self.dir, "server.log"), "ab")
            self.proc = subprocess.Popen(self.argv_for_port(self.port, self.dir), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
            log.close()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    c = Connection(self.port, timeout=2)
                    ok = c.call(b"PING") == Reply("simple", b"PONG")
                    c.close()
                    if ok:
                        self.starts += 1
                        return
                except (OSError, ConnectionLost):
                    time.sleep(0.05)
            last = self.log_tail()
            self.stop()
        raise RuntimeError("%s did not start:\n%s" % (self.name, last))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def connect(self) -> Connection:
        return Connection(self.port, timeout=self.timeout)

    def log_tail(self, n: int = 4000) -> str:
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return f.read()[-n:].decode("latin-1")
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Divergence:
    """Where a replay stopped agreeing.

    kind: reply, crash, hang, closed (kvs closed the connection), keyspace or scan;
    command: the diverging command's name; step: its index in the sequence;
    redis, kvs: the two replies as printed; detail: what tells this divergence from others
    of the same command (the two replies' types or error texts, for grouping).
    """

    kind: str
    command: str
    step: int
    redis: str
    kvs: str
    detail: str = ""

    @property
    def signature(self) -> Tuple[str, str, str]:
        return (self.kind, self.command, self.detail)


def reply_summary(reply: Reply) -> str:
    """A reply's type, or an error's first three words: groups divergences by what differs."""
    if reply.kind == "error":
        return " ".join(reply.value.decode("latin-1").split(" ")[:3])
    if reply.kind == "array" and reply.value and all(x.kind == "error" for x in reply.value):
        return "array of errors"
    return reply.kind


def replies_detail(a: Reply, b: Reply) -> str:
    return "%s / %s" % (reply_summary(a), reply_summary(b))


class Pair:
    """The two servers, and replaying one sequence on both."""

    def __init__(self, kvs_binary: str, timeout: float) -> None:
        self.redis = Server("redis", lambda port, d: ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                                      "--save", "", "--appendonly", "no", "--dir", d],
                            REDIS_TIMEOUT)
        self.kvs = Server("kvs", lambda port, d: [kvs_binary, "--port", str(port), "--save", "", "--dir", d], timeout)
        # Set when kvs-server lost a connection: it is restarted before the next replay.
        self.kvs_suspect = False
        # Commands sent to both servers (a replay stops at its first divergence).
        self.sent = 0

    def start(self) -> None:
        self.redis.start()
        self.kvs.start()

    def stop(self) -> None:
        self.redis.cleanup()
        self.kvs.cleanup()

    def ensure_kvs(self) -> None:
        """Restarts kvs-server if it died, or lost a connection in the last replay."""
        if self.kvs_suspect or not self.kvs.alive():
            self.kvs_suspect = False
            self.kvs.restart()

    def run(self, steps: Sequence[Step]) -> Optional[Divergence]:
        """Replays `steps` on both servers (FLUSHALLed first); the first divergence, or None.

        Each server gets three fresh connections: the sequence's two, and a third that
        flushes, reclaims expired keys (see EXCLUSIONS["dbsize-expired"]) and dumps the keyspace.
        """
        self.ensure_kvs()
        conns: Dict[str, List[Connection]] = {"redis": [], "kvs": []}
        try:
            try:
                # No memory limit at the start of a sequence (CONFIG SET maxmemory 1 evicts
                # or refuses every write until it is lifted), then an empty keyspace. The slow
                # log is off: which commands take 10 ms is the machine's load, not semantics.
                reset = (b"CONFIG", b"SET", b"maxmemory", b"0", b"maxmemory-policy", b"noeviction",
                         b"slowlog-log-slower-than", b"-1")
                conns["redis"] = [self.redis.connect() for _ in range(3)]
                conns["redis"][2].call(*reset)
                conns["redis"][2].call(b"FLUSHALL")
                conns["kvs"] = [self.kvs.connect() for _ in range(3)]
                conns["kvs"][2].call(*reset)
                conns["kvs"][2].call(b"FLUSHALL")
            except (ConnectionLost, OSError) as e:
                return self._lost(ConnectionLost(str(e)), "connect", -1)
            try:
                result = self._replay(steps, conns)
            except ConnectionLost as e:
                return self._lost(e, "?", -1)
            if result is not None:
                return result
            try:
                result = self._compare_keyspace(len(steps), conns["redis"][2], conns["kvs"][2])
                conns["redis"][2].call(b"FLUSHALL")
                conns["kvs"][2].call(b"FLUSHALL")
            except ConnectionLost as e:
                return self._lost(e, "keyspace dump", len(steps))
            return result
        finally:
            for cs in conns.values():
                for c in cs:
                    c.close()

    def _lost(self, error: ConnectionLost, command: str, step: int, redis_text: str = "(a reply)") -> Divergence:
        """kvs-server crashed (exited), hung (no reply in time) or closed the connection."""
        self.kvs_suspect = True
        timed_out = "timeout" in str(error)
        deadline = time.monotonic() + (0.2 if timed_out else 3)
        while self.kvs.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.kvs.alive():
            return Divergence("crash", command, step, redis_text,
                              "kvs-server exited (%s):\n%s" % (error, _crash_summary(self.kvs.log_tail(200000))))
        kind = "hang" if timed_out else "closed"
        return Divergence(kind, command, step, redis_text, "kvs-server: %s" % error)

    def _replay(self, steps: Sequence[Step], conns) -> Optional[Divergence]:
        in_multi = [False, False]
        queued: List[List[Tuple[str, str, tuple]]] = [[], []]
        for i, (ci, args) in enumerate(steps):
            name = command_name(args)
            if args[0] == SCAN_ALL:
                if in_multi[ci]:
                    continue
                # See EXCLUSIONS["dbsize-expired"]: Redis's SCAN TYPE none returns such keys.
                _reclaim_expired(conns["redis"][2])
                _reclaim_expired(conns["kvs"][2])
                a = scan_all(conns["redis"][ci], args[1:])
                try:
                    b = scan_all(conns["kvs"][ci], args[1:])
                except ConnectionLost as e:
                    return self._lost(e, "scan", i)
                if a[0] == "error" and b[0] == "error":
                    same = a[1] == b[1]
                else:
                    same = a == b
                if not same:
                    return Divergence("scan", "scan-all", i, _scan_text(a), _scan_text(b), "%s / %s" % (a[0], b[0]))
                continue
            if args[0] == DUMP_RESTORE:
                if in_multi[ci]:
                    continue
                # Each server restores its own payload (DUMP's bytes are not Redis's RDB).
                source, destination, restore = args[1], args[2], args[3:]
                replies = []
                for side in ("redis", "kvs"):
                    try:
                        conn = conns[side][ci]
                        conn.send((b"DUMP", source))
                        dumped = conn.read_reply()
                        payload = dumped.value if dumped.kind == "bulk" else b""
                        conn.send((b"RESTORE", destination, restore[0], payload) + tuple(restore[1:]))
                        replies.append(conn.read_reply())
                    except ConnectionLost as e:
                        return self._lost(e, "dump-restore", i, format_reply(replies[0]) if replies else "(a reply)")
                self.sent += 2
                a, b = replies
                if canonical(a, "exact", "restore") != canonical(b, "exact", "restore"):
                    return Divergence("reply", "dump-restore", i, format_reply(a), format_reply(b), replies_detail(a, b))
                continue
            label = _label(args)
            self.sent += 1
            if (name in RECLAIM_BEFORE and not in_multi[ci]) or (name == "exec" and any(q[1] in RECLAIM_BEFORE for q in queued[ci])):
                # See EXCLUSIONS["dbsize-expired"]; done on both sides, so that the harness run
                # with redis-server in kvs-server's place (a check of the harness) agrees too.
                _reclaim_expired(conns["redis"][2])
                _reclaim_expired(conns["kvs"][2])
            if (name in CLEAR_ERRNO_BEFORE and not in_multi[ci]) or (
                    name == "exec" and any(q[1] in CLEAR_ERRNO_BEFORE for q in queued[ci])):
                # See EXCLUSIONS["sort-stale-errno"]; on both sides, as the reclaiming above.
                _clear_errno(conns["redis"][2])
                _clear_errno(conns["kvs"][2])
            conns["redis"][ci].send(args)
            a = conns["redis"][ci].read_reply()
            try:
                conns["kvs"][ci].send(args)
                b = conns["kvs"][ci].read_reply()
            except ConnectionLost as e:
                return self._lost(e, label, i, format_reply(a))
            if name == "exec":
                bad = compare_exec(a, b, queued[ci])
                if bad is not None:
                    detail = replies_detail(a, b)
                    if bad != "exec":
                        detail = _exec_detail(a, b, queued[ci])
                    return Divergence("reply", bad, i, format_reply(a), format_reply(b), detail)
            else:
                rule = "exact" if in_multi[ci] and a == Reply("simple", b"QUEUED") else rule_for(args)
                if canonical(a, rule, name) != canonical(b, rule, name):
                    return Divergence("reply", label, i, format_reply(a), format_reply(b), replies_detail(a, b))
            # Follow the transaction state by Redis's replies (the oracle).
            if name == "multi" and a == Reply("simple", b"OK"):
                in_multi[ci], queued[ci] = True, []
            elif in_multi[ci] and a == Reply("simple", b"QUEUED"):
                rule = rule_for(args)
                if name in RECLAIM_BEFORE and any(_sets_past_deadline(q[2]) for q in queued[ci]):
                    rule = "shape"  # see EXCLUSIONS["dbsize-expired"]
                if name in CLEAR_ERRNO_BEFORE and queued[ci]:
                    rule = "any"  # see EXCLUSIONS["sort-stale-errno"]
                queued[ci].append((rule, name, args))
            elif name in ("exec", "discard", "reset"):
                in_multi[ci], queued[ci] = False, []
        return None

    def _compare_keyspace(self, step: int, redis: Connection, kvs: Connection) -> Optional[Divergence]:
        a = dump_keyspace(redis, DATABASES)
        b = dump_keyspace(kvs, DATABASES)
        lines, what = diff_keyspace(a, b)
        if lines:
            return Divergence("keyspace", "keyspace", step, "\n".join(lines), "", what)
        return None


# Commands whose reply in Redis 7.0 still sees a key whose deadline has passed until expiry
# reclaims it (DBSIZE counts it, MEMORY USAGE sizes it): see EXCLUSIONS["dbsize-expired"].
RECLAIM_BEFORE = ("dbsize", "memory")


# Commands whose reply in Redis 7.0 depends on a stale errno: see EXCLUSIONS["sort-stale-errno"].
CLEAR_ERRNO_BEFORE = ("sort", "sort_ro")


def _clear_errno(conn: Connection) -> None:
    """Makes Redis set errno to 0 (getDoubleFromObject clears it before strtod) with a ZADD that
    writes nothing. `conn` is a third connection, never in MULTI."""
    conn.call(b"SELECT", b"0")
    conn.call(b"ZADD", b"differential:errno", b"XX", b"0", b"m")


def _reclaim_expired(conn: Connection) -> None:
    """Makes a server delete its logically expired keys (in Redis, EXISTS expires a key it looks
    up), so that DBSIZE counts live keys only. `conn` is a third connection, never in MULTI."""
    for db in DATABASES:
        conn.call(b"SELECT", str(db).encode())
        conn.call(b"EXISTS", *KEY_SPACE)


def _sets_past_deadline(args) -> bool:
    """Whether a command may leave Redis an expired key behind (an absolute deadline option)."""
    return any(a.upper() in (b"EXAT", b"PXAT") for a in args[1:])


def _crash_summary(log: str) -> str:
    """The part of kvs-server's log that says why it stopped: its last run's failure lines."""
    run = log.rsplit("ready to accept connections", 1)[-1]
    lines = run.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if any(w in line for w in ("Fatal error", "runtime failure", "Signal", "error:")):
            keep.append(line.strip())
        if "crashed:" in line:
            keep += [x.strip() for x in lines[i:i + 4] if x.strip()]
    return "\n".join(dict.fromkeys(keep)) or run.strip()[-1500:]


def _exec_detail(a: Reply, b: Reply, queued) -> str:
    """The first differing element of two EXEC replies, summarised."""
    for (rule, name, _), x, y in zip(queued, a.value, b.value):
        if canonical(x, rule, name) != canonical(y, rule, name):
            return replies_detail(x, y)
    return ""


def _label(args) -> str:
    """The command's name for grouping; with the subcommand for container commands."""
    name = command_name(args)
    if name in ("client", "command", "config") and len(args) > 1:
        return name + " " + args[1].decode("latin-1").lower()
    return name


def _scan_text(r) -> str:
    if r[0] == "keys":
        return "keys: " + ", ".join(sorted(quote_arg(k) for k in r[1]))
    if r[0] == "error":
        return format_reply(r[1])
    return "bad reply: %s" % (r[1],)


def ddmin(items: List, fails: Callable[[List], bool], budget: int = 400) -> List:
    """Delta debugging (Zeller's ddmin): a 1-minimal sublist of `items` for which `fails` holds.

    `fails(items)` must hold on entry. `budget` bounds the number of `fails` calls.
    """
    calls = 0
    n = 2
    while len(items) >= 2 and calls < budget:
        chunk = (len(items) + n - 1) // n
        parts = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        for part in parts:
            calls += 1
            if fails(part):
                items, n, reduced = part, 2, True
                break
            if calls >= budget:
                break
        if not reduced and len(parts) > 2:
            for j in range(len(parts)):
                rest = [x for k, p in enumerate(parts) if k != j for x in p]
                calls += 1
                if fails(rest):
                    items, n, reduced = rest, max(n - 1, 2), True
                    break
                if calls >= budget:
                    break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


SECOND = "[second connection] "


def format_step(step: Step) -> str:
    """A step as a redis-cli line; `parse_step` reads it back."""
    ci, args = step
    text = " ".join(quote_arg(a) for a in args)
    if args[0] == SCAN_ALL:
        text += "   # a complete SCAN iteration with these options, compared as a set"
    if args[0] == DUMP_RESTORE:
        text += "   # DUMP the first key, RESTORE that payload to the second (TTL and options follow)"
    return (SECOND if ci == 1 else "") + text


def parse_step(line: str) -> Optional[Step]:
    """A redis-cli style line (bare, "double-quoted" with \\xHH \\n \\r \\t escapes, or
    'single-quoted' words; an unquoted # starts a comment) as a step; None for a blank line."""
    ci = 0
    line = line.strip()
    if line.startswith(SECOND.strip()):
        ci, line = 1, line[len(SECOND.strip()):]
    args: List[bytes] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i].isspace():
            i += 1
        if i >= n or line[i] == "#":
            break
        word = bytearray()
        if line[i] == '"':
            i += 1
            while i < n and line[i] != '"':
                c = line[i]
                if c == "\\" and i + 1 < n:
                    e = line[i + 1]
                    if e == "x" and i + 3 < n:
                        word.append(int(line[i + 2:i + 4], 16))
                        i += 4
                        continue
                    word += {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b"}.get(e, e.encode("latin-1"))
                    i += 2
                    continue
                word += c.encode("latin-1")
                i += 1
            i += 1
        elif line[i] == "'":
            j = line.index("'", i + 1)
            word += line[i + 1:j].encode("latin-1")
            i = j + 1
        else:
            j = i
            while j < n and not line[j].isspace():
                j += 1
            word += line[i:j].encode("latin-1")
            i = j
        args.append(bytes(word))
    return (ci, tuple(args)) if args else None


@dataclass
class Finding:
    divergence: Divergence
    steps: List[Step]
    seed: str
    count: int = 1
    minimised: bool = False

    def report(self) -> str:
        d = self.divergence
        out = ["### %s: %s (%s; seen %d time%s; first in sequence %s)" % (
            d.command, d.kind + (", " + d.detail if d.detail else ""), "minimised" if self.minimised else "not minimised", self.count,
            "" if self.count == 1 else "s", self.seed)]
        out.append("```")
        out += [format_step(s) for s in self.steps]
        out.append("```")
        if d.kind == "keyspace":
            out.append("Keyspace after the sequence differs:\n```\n%s\n```" % d.redis)
        else:
            out.append("Redis:\n```\n%s\n```\nkvs:\n```\n%s\n```" % (d.redis, d.kvs))
        return "\n".join(out)


class _OutOfTime(Exception):
    pass


def minimise(pair: Pair, steps: List[Step], first: Divergence, budget: int,
             seconds: float = 300) -> Tuple[List[Step], Divergence]:
    """The shortest sequence delta debugging finds, within `budget` replays and `seconds`, that
    still shows `first`'s divergence (same kind, command and replies' types or error texts)."""
    if first.kind not in ("keyspace",) and first.step >= 0:
        steps = steps[: first.step + 1]
    last = [first]
    best = [list(steps)]
    deadline = time.monotonic() + seconds

    def fails(candidate: List[Step]) -> bool:
        if time.monotonic() > deadline:
            raise _OutOfTime()
        if not candidate:
            return False
        d = pair.run(candidate)
        if d is not None and d.signature == first.signature:
            last[0] = d
            if len(candidate) < len(best[0]):
                best[0] = list(candidate)
            return True
        return False

    if first.kind in ("hang", "closed"):
        budget = min(budget, 40)  # each failing replay waits out the timeout
    try:
        small = ddmin(list(steps), fails, budget)
    except _OutOfTime:
        small = best[0]
    # Replay the result once more so the printed replies are the minimal sequence's own.
    d = pair.run(small)
    return small, (d if d is not None and d.signature == first.signature else last[0])


def available_commands(pair: Pair) -> set:
    c = pair.kvs.connect()
    r = c.call(b"COMMAND", b"LIST")
    c.close()
    if r.kind != "array":
        raise RuntimeError("COMMAND LIST on kvs-server answered %s" % format_reply(r))
    return {x.value.decode().lower() for x in r.value}


def replay(args) -> int:
    """Runs the steps of a file of redis-cli lines once on both servers and prints the outcome."""
    with open(args.replay, encoding="latin-1") as f:
        steps = [st for st in (parse_step(line) for line in f) if st is not None]
    pair = Pair(os.path.abspath(args.kvs_server), args.timeout)
    try:
        pair.start()
        d = pair.run(steps)
        if d is None:
            print("differential: %d steps, no divergence" % len(steps))
            return 0
        f = Finding(d, steps[: d.step + 1] if d.step >= 0 and d.kind != "keyspace" else steps, args.replay)
        if not args.no_minimise:
            f.steps, f.divergence = minimise(pair, steps, d, args.minimise_budget)
            f.minimised = True
        print(f.report())
        return 1
    finally:
        pair.stop()


def write_report(path: str, findings) -> None:
    """The divergences so far as Markdown (rewritten after each new one, so a long run that is
    stopped keeps what it found)."""
    with open(path, "w") as out:
        out.write("# Differential test divergences\n\n")
        for f in sorted(findings.values(), key=lambda f: f.divergence.command):
            out.write(f.report() + "\n\n")


def run(args) -> int:
    pair = Pair(os.path.abspath(args.kvs_server), args.timeout)
    findings: Dict[Tuple[str, str, str], Finding] = {}
    minimised = 0
    total = 0
    sequences = 0
    started = time.monotonic()
    try:
        pair.start()
        kvs_commands = available_commands(pair)
        ungrammared = sorted(kvs_commands - set(BY_NAME) - set(NOT_GENERATED))
        status = 0
        if ungrammared:
            print("differential: kvs-server implements commands the grammar does not generate: %s "
                  "(add rows to grammar.py, or a reason to NOT_GENERATED)" % ", ".join(ungrammared))
            if args.ci:
                status = 1
        if args.only:
            # The commands named (and those that fill keys for them), transactions kept.
            wanted = {name.strip().lower() for name in args.only.split(",") if name.strip()}
            grammar = Grammar(kvs_commands & (wanted | {"multi", "exec", "discard", "watch", "unwatch"}))
        else:
            grammar = Grammar(kvs_commands)
        seeds = CI_SEEDS if args.ci else (args.seed,)
        per_seed = CI_COMMANDS if args.ci else args.commands
        for seed in seeds:
            done = 0
            index = 0
            while done < per_seed:
                label = "%s:%d" % (seed, index)
                steps = grammar.sequence(random.Random(label), args.sequence_length)
                index += 1
                sequences += 1
                done += len(steps)
                total += len(steps)
                d = pair.run(steps)
                if d is None:
                    continue
                f = findings.get(d.signature)
                if f is not None:
                    f.count += 1
                    continue
                f = Finding(d, steps, label)
                findings[d.signature] = f
                print("differential: %s divergence in %s (sequence %s)%s" % (
                    d.kind, d.command, label, "" if args.no_minimise else ", minimising..."), flush=True)
                if not args.no_minimise and (args.minimise_limit is None or minimised < args.minimise_limit):
                    f.steps, f.divergence = minimise(pair, steps, d, args.minimise_budget)
                    f.minimised = True
                    minimised += 1
                print(f.report(), flush=True)
                if args.report:
                    write_report(args.report, findings)
                if args.max_findings and len(findings) >= args.max_findings:
                    break
            if args.verbose:
                print("differential: seed %s: %d commands, %.1fs" % (seed, done, time.monotonic() - started), flush=True)
    finally:
        pair.stop()
    elapsed = time.monotonic() - started
    print("\ndifferential: %d commands in %d sequences (%d sent, minimising included), %.1fs, %d distinct divergence%s, "
          "kvs-server started %d time%s"
          % (total, sequences, pair.sent, elapsed, len(findings), "" if len(findings) == 1 else "s",
             pair.kvs.starts, "" if pair.kvs.starts == 1 else "s"))
    if findings:
        print("\n## Divergences\n")
        for f in sorted(findings.values(), key=lambda f: f.divergence.command):
            print(f.report() + "\n")
        if args.report:
            write_report(args.report, findings)
        status = 1
    return status


def _exit_on_signal(signum, frame) -> None:
    """SIGTERM/SIGHUP end the run through the normal path, so the servers it started are stopped."""
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    default_bin = os.environ.get("KVS_SERVER", ".build/release/kvs-server")
    p = argparse.ArgumentParser(description="Compare kvs-server with redis-server on random command sequences.")
    p.add_argument("--kvs-server", default=default_bin, help="kvs-server binary (env KVS_SERVER; default %(default)s)")
    p.add_argument("--seed", default="1", help="random seed (any string; default %(default)s)")
    p.add_argument("--commands", type=int, default=20000, help="commands to send per run (default %(default)s)")
    p.add_argument("--sequence-length", type=int, default=40, help="commands per sequence (default %(default)s)")
    p.add_argument("--ci", action="store_true",
                   help="fixed seeds %s, %d commands each; non-zero exit on any divergence" % (CI_SEEDS, CI_COMMANDS))
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a kvs-server reply")
    p.add_argument("--no-minimise", action="store_true", help="print failing sequences whole")
    p.add_argument("--minimise-budget", type=int, default=300, help="most replays per minimisation")
    p.add_argument("--minimise-limit", type=int, default=None,
                   help="minimise only the first N distinct divergences (default all; %d with --ci)" % CI_MINIMISED)
    p.add_argument("--max-findings", type=int, default=0, help="stop after this many distinct divergences")
    p.add_argument("--report", help="also write the divergences, as Markdown, to this file")
    p.add_argument("--replay", help="run the redis-cli lines of this file (a printed reproduction) instead")
    p.add_argument("--only", help="send only these commands (comma-separated names; MULTI, EXEC, DISCARD, "
                   "WATCH and UNWATCH are kept), e.g. the family under test and commands that fill its keys")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.ci and args.minimise_limit is None:
        args.minimise_limit = CI_MINIMISED
    if not os.path.exists(args.kvs_server):
        print("differential: no kvs-server at %s (build it: swift build -c release --product kvs-server)"
              % args.kvs_server)
        return 2
    if shutil.which("redis-server") is None:
        print("differential: redis-server is missing (apt-get install -y redis-server)")
        return 2
    return replay(args) if args.replay else run(args)


if __name__ == "__main__":
    sys.exit(main())
