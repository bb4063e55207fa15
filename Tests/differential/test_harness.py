"""Self-tests of the differential harness (no servers needed).

    python3 -m unittest discover -s Tests/differential
"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import canonical, compare_exec, diff_keyspace  # noqa: E402
from differential import EXCLUSIONS, ddmin, format_step, parse_step  # noqa: E402
from grammar import ALL_ROWS, KEY_SPACE, NOT_GENERATED, SCAN_ALL, DUMP_RESTORE, Grammar  # noqa: E402
from resp import Parser, ProtocolError, Reply, encode_command, quote_arg  # noqa: E402


def parse_all(data: bytes, step: int = 0):
    """Feeds `data` whole (step 0) or `step` bytes at a time; returns the replies."""
    p = Parser()
    out = []
    chunks = [data] if step == 0 else [data[i:i + step] for i in range(0, len(data), step)]
    for chunk in chunks:
        p.feed(chunk)
        while True:
            r = p.next_reply()
            if r is None:
                break
            out.append(r)
    return out


class ParserTests(unittest.TestCase):
    def one(self, data: bytes) -> Reply:
        replies = parse_all(data)
        self.assertEqual(len(replies), 1)
        return replies[0]

    def test_resp2_types(self):
        self.assertEqual(self.one(b"+OK\r\n"), Reply("simple", b"OK"))
        self.assertEqual(self.one(b"-ERR no\r\n"), Reply("error", b"ERR no"))
        self.assertEqual(self.one(b":-42\r\n"), Reply("int", -42))
        self.assertEqual(self.one(b"$5\r\na\r\nb!\r\n"), Reply("bulk", b"a\r\nb!"))
        self.assertEqual(self.one(b"$0\r\n\r\n"), Reply("bulk", b""))
        self.assertEqual(self.one(b"$-1\r\n"), Reply("nullbulk", None))
        self.assertEqual(self.one(b"*-1\r\n"), Reply("nullarray", None))
        self.assertEqual(self.one(b"*0\r\n"), Reply("array", ()))
        self.assertEqual(self.one(b"*2\r\n:1\r\n$1\r\nx\r\n"), Reply("array", (Reply("int", 1), Reply("bulk", b"x"))))

    def test_resp3_types(self):
        self.assertEqual(self.one(b"_\r\n"), Reply("null", None))
        self.assertEqual(self.one(b",1.5\r\n"), Reply("double", b"1.5"))
        self.assertEqual(self.one(b",inf\r\n"), Reply("double", b"inf"))
        self.assertEqual(self.one(b"#t\r\n"), Reply("bool", True))
        self.assertEqual(self.one(b"#f\r\n"), Reply("bool", False))
        self.assertEqual(self.one(b"(12345678901234567890\r\n"), Reply("bignum", b"12345678901234567890"))
        self.assertEqual(self.one(b"!3\r\nERR\r\n"), Reply("blobError", b"ERR"))
        self.assertEqual(self.one(b"=7\r\ntxt:abc\r\n"), Reply("verbatim", (b"txt", b"abc")))
        self.assertEqual(self.one(b"%1\r\n+a\r\n:1\r\n"), Reply("map", ((Reply("simple", b"a"), Reply("int", 1)),)))
        self.assertEqual(self.one(b"~2\r\n:1\r\n:2\r\n"), Reply("set", (Reply("int", 1), Reply("int", 2))))
        self.assertEqual(self.one(b">2\r\n+a\r\n+b\r\n"), Reply("push", (Reply("simple", b"a"), Reply("simple", b"b"))))
        # An attribute is read and dropped; the reply it annotates is returned.
        self.assertEqual(self.one(b"|1\r\n+k\r\n+v\r\n:7\r\n"), Reply("int", 7))

    def test_types_with_the_same_bytes_differ(self):
        self.assertNotEqual(self.one(b"+OK\r\n"), self.one(b"$2\r\nOK\r\n"))
        self.assertNotEqual(self.one(b"$-1\r\n"), self.one(b"_\r\n"))
        self.assertNotEqual(self.one(b"*-1\r\n"), self.one(b"$-1\r\n"))
        self.assertNotEqual(self.one(b"*1\r\n:1\r\n"), self.one(b"~1\r\n:1\r\n"))

    def test_partial_reads_byte_by_byte(self):
        data = (b"+OK\r\n$3\r\n\r\n\x00\r\n*2\r\n%1\r\n$1\r\nk\r\n,-0\r\n_\r\n:9\r\n"
                b"=8\r\nmkd:a\r\nb\r\n~0\r\n$-1\r\n")
        whole = parse_all(data)
        self.assertEqual(len(whole), 7)
        for step in (1, 2, 3, 7):
            self.assertEqual(parse_all(data, step), whole)
        self.assertEqual(whole[1], Reply("bulk", b"\r\n\x00"))
        self.assertEqual(whole[4], Reply("verbatim", (b"mkd", b"a\r\nb")))

    def test_incomplete_returns_none_until_complete(self):
        p = Parser()
        p.feed(b"*2\r\n$3\r\nab")
        self.assertIsNone(p.next_reply())
        p.feed(b"c\r\n")
        self.assertIsNone(p.next_reply())
        p.feed(b":5\r\n")
        self.assertEqual(p.next_reply(), Reply("array", (Reply("bulk", b"abc"), Reply("int", 5))))
        self.assertIsNone(p.next_reply())

    def test_protocol_errors(self):
        with self.assertRaises(ProtocolError):
            parse_all(b"?what\r\n")
        with self.assertRaises(ProtocolError):
            parse_all(b"$3\r\nabcd\r\n")

    def test_encode_and_quote(self):
        self.assertEqual(encode_command([b"SET", "k", b""]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
        self.assertEqual(quote_arg(b"abc"), "abc")
        self.assertEqual(quote_arg(b""), '""')
        self.assertEqual(quote_arg(b"a b"), '"a b"')
        self.assertEqual(quote_arg(b"\x00\xff\r\n\""), '"\\x00\\xff\\r\\n\\""')


class GrammarTests(unittest.TestCase):
    def test_same_seed_same_sequence(self):
        g = Grammar()
        a = g.sequence(random.Random("7:3"), 60)
        b = Grammar().sequence(random.Random("7:3"), 60)
        self.assertEqual(a, b)
        self.assertNotEqual(a, g.sequence(random.Random("7:4"), 60))

    def test_sequences_use_both_connections_and_blocks(self):
        g = Grammar()
        steps = [s for i in range(400) for s in g.sequence(random.Random("cover:%d" % i), 40)]
        names = {args[0].lower() for _, args in steps}
        self.assertIn(b"multi", names)
        self.assertIn(b"exec", names)
        self.assertIn(b"watch", names)
        self.assertIn(SCAN_ALL.lower(), names)
        self.assertIn(DUMP_RESTORE.lower(), names)
        self.assertTrue(any(ci == 1 for ci, _ in steps))
        for row in ALL_ROWS:
            self.assertIn(row.name.encode(), names, row.name)
        self.assertTrue(all(isinstance(a, bytes) for _, args in steps for a in args))

    def test_available_restricts_commands(self):
        g = Grammar({"get", "set"})
        steps = g.sequence(random.Random("only"), 200)
        plain = {args[0].lower() for _, args in steps if args[0].lower() not in (b"multi", b"exec", b"discard", b"watch",
                                                                                   b"hello", SCAN_ALL.lower())}
        self.assertTrue(plain <= {b"get", b"set"}, plain)

    def test_key_space_is_small(self):
        self.assertEqual(len(KEY_SPACE), 8)
        self.assertFalse(set(NOT_GENERATED) & {r.name for r in ALL_ROWS})


class CompareTests(unittest.TestCase):
    def test_exact_compares_type_and_value(self):
        self.assertNotEqual(canonical(Reply("simple", b"OK"), "exact", "set"),
                            canonical(Reply("bulk", b"OK"), "exact", "set"))
        self.assertEqual(canonical(Reply("int", 3), "exact", "x"), canonical(Reply("int", 3), "exact", "x"))

    def test_errors_compare_whole_text(self):
        self.assertNotEqual(canonical(Reply("error", b"ERR syntax error"), "exact", "set"),
                            canonical(Reply("error", b"ERR value is not an integer or out of range"), "exact", "set"))

    def test_ttl_by_sign(self):
        same = lambda a, b: canonical(Reply("int", a), "ttl", "ttl") == canonical(Reply("int", b), "ttl", "ttl")
        self.assertTrue(same(999999, 1000000))
        self.assertTrue(same(0, 5))
        self.assertTrue(same(-1, -1))
        self.assertTrue(same(-2, -2))
        self.assertFalse(same(-1, -2))
        self.assertFalse(same(-1, 10))
        self.assertFalse(same(-2, 10))
        self.assertNotEqual(canonical(Reply("int", 5), "ttl", "ttl"), canonical(Reply("bulk", b"5"), "ttl", "ttl"))

    def test_set_comparison(self):
        a = Reply("array", (Reply("bulk", b"a"), Reply("bulk", b"b")))
        b = Reply("array", (Reply("bulk", b"b"), Reply("bulk", b"a")))
        c = Reply("array", (Reply("bulk", b"a"), Reply("bulk", b"a")))
        self.assertEqual(canonical(a, "set", "keys"), canonical(b, "set", "keys"))
        self.assertNotEqual(canonical(a, "set", "keys"), canonical(c, "set", "keys"))
        self.assertNotEqual(canonical(a, "set", "keys"), canonical(Reply("set", a.value), "set", "keys"))

    def test_nullness_shape_scan_hello(self):
        self.assertEqual(canonical(Reply("bulk", b"a"), "nullness", "randomkey"),
                         canonical(Reply("bulk", b"b"), "nullness", "randomkey"))
        self.assertNotEqual(canonical(Reply("bulk", b"a"), "nullness", "randomkey"),
                            canonical(Reply("nullbulk", None), "nullness", "randomkey"))
        t1 = Reply("array", (Reply("bulk", b"1700000000"), Reply("bulk", b"12")))
        t2 = Reply("array", (Reply("bulk", b"1800000000"), Reply("bulk", b"99")))
        self.assertEqual(canonical(t1, "shape", "time"), canonical(t2, "shape", "time"))
        self.assertNotEqual(canonical(t1, "shape", "time"), canonical(Reply("array", t1.value[:1]), "shape", "time"))
        s1 = Reply("array", (Reply("bulk", b"0"), Reply("array", (Reply("bulk", b"a"),))))
        s2 = Reply("array", (Reply("bulk", b"5"), Reply("array", ())))
        self.assertEqual(canonical(s1, "scan", "scan"), canonical(s2, "scan", "scan"))
        h1 = Reply("map", ((Reply("bulk", b"server"), Reply("bulk", b"redis")), (Reply("bulk", b"proto"), Reply("int", 3))))
        h2 = Reply("map", ((Reply("bulk", b"server"), Reply("bulk", b"kvs")), (Reply("bulk", b"proto"), Reply("int", 3))))
        h3 = Reply("map", ((Reply("bulk", b"server"), Reply("bulk", b"kvs")), (Reply("bulk", b"proto"), Reply("int", 2))))
        self.assertEqual(canonical(h1, "hello", "hello"), canonical(h2, "hello", "hello"))
        self.assertNotEqual(canonical(h1, "hello", "hello"), canonical(h3, "hello", "hello"))

    def test_exec_elements_use_their_commands_rules(self):
        queued = [("ttl", "ttl"), ("exact", "get")]
        a = Reply("array", (Reply("int", 100), Reply("bulk", b"v")))
        b = Reply("array", (Reply("int", 99), Reply("bulk", b"v")))
        c = Reply("array", (Reply("int", 99), Reply("simple", b"v")))
        self.assertIsNone(compare_exec(a, b, queued))
        self.assertEqual(compare_exec(a, c, queued), "exec/get")
        self.assertEqual(compare_exec(Reply("nullarray", None), Reply("array", ()), []), "exec")

    def test_keyspace_diff(self):
        s = Reply("simple", b"string")
        redis = {0: {b"a": (s, Reply("bulk", b"1"), Reply("int", -1)), b"b": (s, Reply("bulk", b"x"), ("int", "non-negative"))}}
        same = {0: dict(redis[0])}
        self.assertEqual(diff_keyspace(redis, same), ([], ""))
        other = {0: {b"a": (s, Reply("bulk", b"2"), Reply("int", -1))}}
        lines, what = diff_keyspace(redis, other)
        self.assertEqual(len(lines), 2)
        self.assertEqual(what, "value differs")


class MinimiserTests(unittest.TestCase):
    def test_ddmin_finds_the_two_culprits(self):
        calls = []

        def fails(xs):
            calls.append(len(xs))
            return 13 in xs and 71 in xs

        self.assertEqual(ddmin(list(range(100)), fails), [13, 71])
        self.assertLess(len(calls), 200)

    def test_ddmin_keeps_order_dependent_failures(self):
        # Fails only when "watch" comes before "write" which comes before "exec".
        items = ["a", "watch", "b", "c", "write", "d", "exec", "e"]

        def fails(xs):
            try:
                return xs.index("watch") < xs.index("write") < xs.index("exec")
            except ValueError:
                return False

        self.assertEqual(ddmin(items, fails), ["watch", "write", "exec"])

    def test_ddmin_respects_budget(self):
        calls = []

        def fails(xs):
            calls.append(1)
            return 5 in xs

        ddmin(list(range(1000)), fails, budget=5)
        self.assertLessEqual(len(calls), 6)

    def test_format_step(self):
        self.assertEqual(format_step((0, (b"SET", b"a b", b"\x00"))), 'SET "a b" "\\x00"')
        self.assertEqual(format_step((1, (b"GET", b"a"))), "[second connection] GET a")

    def test_printed_steps_parse_back(self):
        g = Grammar()
        steps = [s for i in range(50) for s in g.sequence(random.Random("round:%d" % i), 40)]
        for step in steps:
            self.assertEqual(parse_step(format_step(step)), step)
        self.assertEqual(parse_step("set 'a b' \"x\\\"y\"  # comment"), (0, (b"set", b"a b", b'x"y')))
        self.assertIsNone(parse_step("   # only a comment"))

    def test_exclusions_have_reasons(self):
        self.assertTrue(EXCLUSIONS)
        for name, reason in EXCLUSIONS.items():
            self.assertGreater(len(reason), 20, name)


if __name__ == "__main__":
    unittest.main()
