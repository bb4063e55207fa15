"""Compatibility test: the Python `redis` client (PyPI) against a running kvs-server.

Run: KVS_PORT=6390 python3 Tests/compat/test_redis_py.py
"""
import os
import threading
import time
import unittest

import redis

PORT = int(os.environ.get("KVS_PORT", "6379"))


def client(**kwargs):
    return redis.Redis(host="127.0.0.1", port=PORT, **kwargs)


class StringsAndKeys(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_set_get(self):
        self.assertTrue(self.r.set("hello", "world"))
        self.assertEqual(self.r.get("hello"), b"world")
        self.assertIsNone(self.r.get("missing"))
        self.assertIsNone(self.r.set("hello", "x", nx=True))
        self.assertTrue(self.r.set("hello", "x", xx=True))
        self.assertEqual(self.r.set("hello", "y", get=True), b"x")
        self.assertTrue(self.r.set("ttl", "v", ex=100))
        self.assertIn(self.r.ttl("ttl"), (99, 100))
        self.assertTrue(self.r.set("ttl", "w", keepttl=True))
        self.assertGreater(self.r.pttl("ttl"), 90000)

    def test_binary(self):
        key = bytes(range(256))
        self.r.set(key, b"\x00\xff\r\n")
        self.assertEqual(self.r.get(key), b"\x00\xff\r\n")
        self.assertEqual(self.r.keys("*"), [key])

    def test_counters(self):
        self.assertEqual(self.r.incr("n"), 1)
        self.assertEqual(self.r.incrby("n", 41), 42)
        self.assertEqual(self.r.decr("n"), 41)
        self.assertAlmostEqual(self.r.incrbyfloat("f", 0.1), 0.1)
        self.assertEqual(self.r.incrbyfloat("f", 0.2), 0.3)
        self.r.set("s", "abc")
        with self.assertRaises(redis.ResponseError) as e:
            self.r.incr("s")
        self.assertIn("not an integer", str(e.exception))

    def test_multi_key(self):
        self.assertTrue(self.r.mset({"a": "1", "b": "2"}))
        self.assertEqual(self.r.mget("a", "b", "c"), [b"1", b"2", None])
        self.assertFalse(self.r.msetnx({"a": "9", "z": "9"}))
        self.assertEqual(self.r.exists("a", "b", "z"), 2)
        self.assertEqual(self.r.delete("a", "b", "z"), 2)

    def test_strings(self):
        self.assertEqual(self.r.append("s", "Hello"), 5)
        self.assertEqual(self.r.append("s", " World"), 11)
        self.assertEqual(self.r.strlen("s"), 11)
        self.assertEqual(self.r.getrange("s", -5, -1), b"World")
        self.assertEqual(self.r.setrange("s", 6, "Redis"), 11)
        self.assertEqual(self.r.get("s"), b"Hello Redis")
        self.assertEqual(self.r.getdel("s"), b"Hello Redis")
        self.assertEqual(self.r.getset("s", "1"), None)
        self.assertEqual(self.r.getex("s", ex=50), b"1")
        self.assertEqual(self.r.ttl("s"), 50)

    def test_keys_and_expiry(self):
        self.r.mset({"user:1": "a", "user:2": "b", "other": "c"})
        self.assertEqual(sorted(self.r.keys("user:*")), [b"user:1", b"user:2"])
        self.assertEqual(sorted(self.r.scan_iter(match="user:*", count=1)), [b"user:1", b"user:2"])
        self.assertEqual(self.r.type("other"), b"string")
        self.assertTrue(self.r.expire("other", 100))
        self.assertFalse(self.r.expire("other", 10, gt=True))
        self.assertTrue(self.r.persist("other"))
        self.assertEqual(self.r.ttl("other"), -1)
        self.assertTrue(self.r.rename("other", "renamed"))
        self.assertFalse(self.r.renamenx("renamed", "user:1"))
        self.assertEqual(self.r.dbsize(), 3)
        self.assertIn(self.r.randomkey(), [b"user:1", b"user:2", b"renamed"])
        self.r.pexpire("renamed", 20)
        time.sleep(0.1)
        self.assertIsNone(self.r.get("renamed"))

    def test_unknown_command(self):
        with self.assertRaises(redis.ResponseError) as e:
            self.r.execute_command("NOSUCH", "x")
        self.assertIn("unknown command", str(e.exception))


class BitmapsAndHyperLogLogs(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_bitmaps(self):
        self.assertEqual(self.r.setbit("b", 7, 1), 0)
        self.assertEqual(self.r.setbit("b", 7, 1), 1)
        self.assertEqual(self.r.getbit("b", 7), 1)
        self.assertEqual(self.r.get("b"), b"\x01")
        self.r.set("s", "foobar")
        self.assertEqual(self.r.bitcount("s"), 26)
        self.assertEqual(self.r.bitcount("s", 1, 1), 6)
        self.assertEqual(self.r.bitcount("s", 5, 30, "BIT"), 17)
        self.assertEqual(self.r.bitpos("s", 1), 1)
        self.assertEqual(self.r.bitpos("s", 0, 1, 2), 8)
        self.assertEqual(self.r.bitop("AND", "d", "s", "b"), 6)
        self.assertEqual(self.r.get("d"), b"\x00\x00\x00\x00\x00\x00")
        self.assertEqual(self.r.bitop("NOT", "d", "b"), 1)
        self.assertEqual(self.r.get("d"), b"\xfe")
        with self.assertRaises(redis.ResponseError):
            self.r.setbit("b", -1, 1)

    def test_bitfield(self):
        bf = self.r.bitfield("f")
        out = bf.set("i8", 0, -100).get("u4", 0).incrby("u2", 100, 1).execute()
        self.assertEqual(out, [0, 9, 1])
        out = self.r.bitfield("f", default_overflow="FAIL").incrby("i8", 0, -100).execute()
        self.assertEqual(out, [None])
        self.assertEqual(self.r.bitfield_ro("f", "i8", 0, items=[("u8", "#0")]), [-100, 156])

    def test_hyperloglog(self):
        self.assertEqual(self.r.pfadd("h", "a", "b", "c"), 1)
        self.assertEqual(self.r.pfadd("h", "a"), 0)
        self.assertEqual(self.r.pfcount("h"), 3)
        self.r.pfadd("g", "c", "d")
        self.assertEqual(self.r.pfcount("h", "g"), 4)
        self.assertTrue(self.r.pfmerge("m", "h", "g"))
        self.assertEqual(self.r.pfcount("m"), 4)
        self.assertTrue(self.r.get("m").startswith(b"HYLL"))
        self.r.set("s", "x")
        with self.assertRaises(redis.ResponseError):
            self.r.pfcount("s")


class Transactions(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_pipeline_transaction(self):
        p = self.r.pipeline(transaction=True)
        p.set("a", 1).incr("a").get("a")
        self.assertEqual(p.execute(), [True, 2, b"2"])

    def test_watch_conflict(self):
        self.r.set("k", "1")
        with self.r.pipeline() as p:
            p.watch("k")
            client().set("k", "2")
            p.multi()
            p.set("k", "3")
            with self.assertRaises(redis.WatchError):
                p.execute()
        self.assertEqual(self.r.get("k"), b"2")

    def test_transaction_helper_retries(self):
        self.r.set("counter", 0)

        def work():
            r = client()
            for _ in range(50):
                def incr(pipe):
                    v = int(pipe.get("counter"))
                    pipe.multi()
                    pipe.set("counter", v + 1)
                r.transaction(incr, "counter")

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(int(self.r.get("counter")), 200)

    def test_pipelining_without_transaction(self):
        p = self.r.pipeline(transaction=False)
        for i in range(1000):
            p.set(f"k{i}", i)
        for i in range(1000):
            p.get(f"k{i}")
        out = p.execute()
        self.assertEqual(out[1000:], [str(i).encode() for i in range(1000)])


class Lists(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_push_pop_range(self):
        self.assertEqual(self.r.rpush("l", "a", "b", "c"), 3)
        self.assertEqual(self.r.lpush("l", "z"), 4)
        self.assertEqual(self.r.lrange("l", 0, -1), [b"z", b"a", b"b", b"c"])
        self.assertEqual(self.r.llen("l"), 4)
        self.assertEqual(self.r.lindex("l", -1), b"c")
        self.assertEqual(self.r.lpop("l"), b"z")
        self.assertEqual(self.r.rpop("l", 2), [b"c", b"b"])
        self.assertIsNone(self.r.lpop("missing"))
        self.assertIsNone(self.r.lpop("missing", 2))
        self.assertEqual(self.r.type("l"), b"list")

    def test_edit_and_search(self):
        self.r.rpush("l", "a", "b", "a", "c")
        self.assertTrue(self.r.lset("l", 0, "A"))
        self.assertEqual(self.r.linsert("l", "BEFORE", "c", "x"), 5)
        self.assertEqual(self.r.lrem("l", 0, "a"), 1)
        self.assertEqual(self.r.lpos("l", "c"), 3)
        self.assertEqual(self.r.lpos("l", "nope", count=0), [])
        self.assertTrue(self.r.ltrim("l", 1, -1))
        self.assertEqual(self.r.lrange("l", 0, -1), [b"b", b"x", b"c"])
        with self.assertRaises(redis.ResponseError) as e:
            self.r.lset("l", 10, "v")
        self.assertIn("index out of range", str(e.exception))

    def test_moves(self):
        self.r.rpush("src", "1", "2", "3")
        self.assertEqual(self.r.lmove("src", "dst", "LEFT", "RIGHT"), b"1")
        self.assertEqual(self.r.rpoplpush("src", "dst"), b"3")
        self.assertEqual(self.r.lrange("dst", 0, -1), [b"3", b"1"])
        self.assertEqual(self.r.lmpop(2, "none", "src", direction="LEFT", count=5), [b"src", [b"2"]])
        self.assertIsNone(self.r.lmpop(1, "src", direction="RIGHT"))
        self.r.set("s", "v")
        with self.assertRaises(redis.ResponseError) as e:
            self.r.lpush("s", "x")
        self.assertIn("WRONGTYPE", str(e.exception))


class BlockingAndQueues(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_blocking_pops_with_timeouts(self):
        r = self.r
        self.assertIsNone(r.blpop(["q1", "q2"], timeout=0.05))
        self.assertIsNone(r.brpoplpush("q1", "dst", timeout=0.05))
        self.assertIsNone(r.bzpopmin("z", timeout=0.05))
        r.rpush("q2", "a")
        self.assertEqual(r.blpop(["q1", "q2"], timeout=1), (b"q2", b"a"))
        r.zadd("z", {"m": 1.5})
        self.assertEqual(r.bzpopmin("z", timeout=1), (b"z", b"m", 1.5))

    def test_a_blocked_worker_is_served_by_a_producer(self):
        got = {}

        def worker():
            got["job"] = client().brpop(["jobs"], timeout=10)

        t = threading.Thread(target=worker)
        t.start()
        deadline = time.time() + 10
        while self.r.info("clients")["blocked_clients"] < 1 and time.time() < deadline:
            time.sleep(0.005)
        self.r.lpush("jobs", "job-1")
        t.join()
        self.assertEqual(got["job"], (b"jobs", b"job-1"))

    def test_reliable_queue(self):
        """A queue in the style of Vapor's queues-redis-driver: LPUSH, (B)RPOPLPUSH, LREM."""
        r = self.r
        for job in ("j1", "j2", "j3"):
            r.lpush("queue", job)
        taken = [r.rpoplpush("queue", "processing"), r.brpoplpush("queue", "processing", timeout=1)]
        self.assertEqual(taken, [b"j1", b"j2"])
        self.assertEqual(r.lrange("processing", 0, -1), [b"j2", b"j1"])
        self.assertEqual(r.lrem("processing", -1, "j1"), 1)  # j1 done
        self.assertEqual(r.lrange("processing", 0, -1), [b"j2"])
        # A crashed worker's job goes back to the queue.
        self.assertEqual(r.lmove("processing", "queue", "RIGHT", "LEFT"), b"j2")
        self.assertEqual(r.lrange("queue", 0, -1), [b"j2", b"j3"])


class ConnectionAndServer(unittest.TestCase):
    def test_resp3(self):
        r = client(protocol=3)
        r.set("r3", "v")
        self.assertEqual(r.get("r3"), b"v")
        self.assertIsNone(r.get("missing-r3"))

    def test_client_and_server(self):
        r = client(decode_responses=True)
        self.assertTrue(r.ping())
        self.assertEqual(r.echo("hi"), "hi")
        r.client_setname("compat")
        self.assertEqual(r.client_getname(), "compat")
        self.assertIsInstance(r.client_id(), int)
        self.assertTrue(any(c["name"] == "compat" for c in r.client_list()))
        info = r.info()
        self.assertIn("redis_version", info)
        self.assertEqual(r.config_get("databases"), {"databases": "16"})
        self.assertGreater(r.command_count(), 50)
        self.assertEqual(len(r.time()), 2)
        self.assertTrue(r.save())
        self.assertIsInstance(r.lastsave().year, int)

    def test_select(self):
        r1 = client(db=1)
        r0 = client(db=0)
        r1.set("only-in-1", "x")
        self.assertIsNone(r0.get("only-in-1"))
        self.assertEqual(r1.get("only-in-1"), b"x")
        r1.flushdb()
        self.assertEqual(r1.dbsize(), 0)


class Sets(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_members_and_algebra(self):
        r = self.r
        self.assertEqual(r.sadd("s", "a", "b", "c", "a"), 3)
        self.assertEqual(r.smembers("s"), {b"a", b"b", b"c"})
        self.assertEqual(r.scard("s"), 3)
        self.assertTrue(r.sismember("s", "a"))
        self.assertEqual(r.smismember("s", ["a", "z"]), [1, 0])
        self.assertEqual(r.srem("s", "a", "z"), 1)
        self.assertEqual(r.sadd("t", "b", "x", "1"), 3)
        self.assertEqual(r.sinter("s", "t"), {b"b"})
        self.assertEqual(r.sunion("s", "t"), {b"b", b"c", b"x", b"1"})
        self.assertEqual(r.sdiff("s", "t"), {b"c"})
        self.assertEqual(r.sintercard(2, ["s", "t"]), 1)
        self.assertEqual(r.sunionstore("u", "s", "t"), 4)
        self.assertEqual(r.type("u"), b"set")
        self.assertTrue(r.smove("t", "s", "x"))
        self.assertEqual(r.smembers("s"), {b"b", b"c", b"x"})
        self.assertEqual(r.object("encoding", "u"), b"hashtable")
        self.assertEqual(r.sadd("i", 3, 1, 2), 3)
        self.assertEqual(r.object("encoding", "i"), b"intset")
        self.assertEqual(r.sscan("i"), (0, [b"1", b"2", b"3"]))
        self.assertEqual(sorted(r.sscan_iter("u", match="[bc]")), [b"b", b"c"])
        # A large table resumes from a cursor: the iterator sees every member once.
        r.sadd("big", *[f"m{i}" for i in range(2000)])
        cursor, first = r.sscan("big", 0, count=5)
        self.assertNotEqual(cursor, 0)
        self.assertEqual(sorted(r.sscan_iter("big", count=50)), sorted(f"m{i}".encode() for i in range(2000)))
        r.zadd("zbig", {f"m{i}": i for i in range(2000)})
        self.assertEqual(dict(r.zscan_iter("zbig", count=50)), {f"m{i}".encode(): float(i) for i in range(2000)})

    def test_pop_and_random(self):
        r = self.r
        r.sadd("s", *[f"m{i}" for i in range(100)])
        popped = r.spop("s", 10)
        self.assertEqual(len(set(popped)), 10)
        self.assertEqual(r.scard("s"), 90)
        self.assertIn(r.spop("s"), {f"m{i}".encode() for i in range(100)})
        self.assertEqual(len(set(r.srandmember("s", 5))), 5)
        self.assertEqual(len(r.srandmember("s", -200)), 200)
        self.assertIsNone(r.spop("missing"))

    def test_resp3(self):
        r = client(protocol=3)
        r.sadd("r3set", "a", "b")
        self.assertEqual(r.smembers("r3set"), {b"a", b"b"})
        self.assertEqual(set(r.spop("r3set", 5)), {b"a", b"b"})
        self.assertEqual(r.exists("r3set"), 0)


class SortedSets(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_leaderboard(self):
        r = self.r
        self.assertEqual(r.zadd("board", {"ann": 10, "bob": 25, "cid": 17.5}), 3)
        self.assertEqual(r.zincrby("board", 10, "ann"), 20.0)
        self.assertEqual(r.zincrby("board", 0.5, "dee"), 0.5)
        self.assertEqual(
            r.zrevrange("board", 0, 2, withscores=True), [(b"bob", 25.0), (b"ann", 20.0), (b"cid", 17.5)]
        )
        self.assertEqual(r.zrank("board", "cid"), 1)
        self.assertEqual(r.zrevrank("board", "bob"), 0)
        self.assertIsNone(r.zrank("board", "nobody"))
        self.assertEqual(r.zcount("board", 17.5, "+inf"), 3)
        self.assertEqual(r.zcount("board", "(17.5", "+inf"), 2)
        self.assertEqual(r.zscore("board", "cid"), 17.5)
        self.assertEqual(r.zadd("board", {"ann": 5}, gt=True, ch=True), 0)
        self.assertEqual(r.zadd("board", {"ann": 30}, gt=True, ch=True), 1)
        self.assertEqual(r.zrangebyscore("board", 18, 40, withscores=True), [(b"bob", 25.0), (b"ann", 30.0)])
        self.assertEqual(r.zpopmax("board"), [(b"ann", 30.0)])
        self.assertEqual(r.zcard("board"), 3)
        with self.assertRaises(redis.ResponseError) as e:
            r.zadd("board", {"x": float("nan")})
        self.assertIn("not a valid float", str(e.exception))

    def test_leaderboard_resp3_and_algebra(self):
        r = client(protocol=3)
        r.zadd("week1", {"ann": 3, "bob": 1})
        r.zadd("week2", {"ann": 2, "cid": 7})
        self.assertEqual(r.zunionstore("total", ["week1", "week2"]), 3)
        self.assertEqual(r.zrange("total", 0, -1, withscores=True), [[b"bob", 1.0], [b"ann", 5.0], [b"cid", 7.0]])
        self.assertEqual(r.zinter(["week1", "week2"], withscores=True), [[b"ann", 5.0]])
        self.assertEqual(r.zscore("total", "cid"), 7.0)
        self.assertEqual(r.zmscore("total", ["ann", "zed"]), [5.0, None])


class SortAndDump(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def test_sort(self):
        r = self.r
        r.rpush("ids", 3, 1, 2)
        r.mset({"weight_1": 30, "weight_2": 10, "weight_3": 20, "name_1": "ann", "name_2": "bob"})
        r.hset("user_3", mapping={"name": "cid"})
        self.assertEqual(r.sort("ids"), [b"1", b"2", b"3"])
        self.assertEqual(r.sort("ids", desc=True, start=0, num=2), [b"3", b"2"])
        self.assertEqual(r.sort("ids", by="weight_*"), [b"2", b"3", b"1"])
        self.assertEqual(r.sort("ids", by="nosort"), [b"3", b"1", b"2"])
        self.assertEqual(r.sort("ids", get=["#", "name_*", "user_*->name"]),
                         [b"1", b"ann", None, b"2", b"bob", None, b"3", None, b"cid"])
        self.assertEqual(r.sort("ids", by="weight_*", get="#", groups=False, store="sorted"), 3)
        self.assertEqual(r.lrange("sorted", 0, -1), [b"2", b"3", b"1"])
        self.assertEqual(r.sort_ro("ids", alpha=True, desc=True), [b"3", b"2", b"1"])
        r.sadd("words", "b", "a")
        with self.assertRaises(redis.ResponseError) as e:
            r.sort("words")
        self.assertIn("can't be converted into double", str(e.exception))
        with self.assertRaises(redis.ResponseError):
            r.sort("weight_1")

    def test_dump_restore_round_trip(self):
        r = self.r
        r.set("s", "value")
        r.hset("h", mapping={"f": "v"})
        r.rpush("l", "a", "b")
        r.sadd("set", 1, 2, 3)
        r.zadd("z", {"m": 1.5})
        self.assertIsNone(r.dump("missing"))
        for key in ("s", "h", "l", "set", "z"):
            payload = r.dump(key)
            self.assertTrue(r.restore(key + "-copy", 60000, payload))
            self.assertEqual(r.type(key + "-copy"), r.type(key))
            self.assertGreater(r.pttl(key + "-copy"), 50000)
            with self.assertRaises(redis.ResponseError) as e:
                r.restore(key, 0, payload)
            self.assertIn("BUSYKEY", str(e.exception))
            self.assertTrue(r.restore(key, 0, payload, replace=True, idletime=10))
        self.assertEqual(r.get("s-copy"), b"value")
        self.assertEqual(r.hgetall("h-copy"), {b"f": b"v"})
        self.assertEqual(r.lrange("l-copy", 0, -1), [b"a", b"b"])
        self.assertEqual(r.smembers("set-copy"), {b"1", b"2", b"3"})
        self.assertEqual(r.zrange("z-copy", 0, -1, withscores=True), [(b"m", 1.5)])
        with self.assertRaises(redis.ResponseError) as e:
            r.restore("bad", 0, r.dump("s")[:-1])
        self.assertIn("payload version or checksum are wrong", str(e.exception))
        self.assertEqual(r.exists("bad"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
