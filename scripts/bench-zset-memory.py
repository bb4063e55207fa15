#!/usr/bin/env python3
"""Resident bytes per sorted-set member on a running server (kvs-server or redis-server).

Flushes the server, reads INFO memory's used_memory_rss, loads either one sorted set of
1,000,000 members (`big`: a skip list) or 100,000 sorted sets of 10 members (`small`:
listpacks) with pipelined ZADDs, waits a second, and prints the growth per member. Start a
fresh server for each run: an allocator keeps what an earlier run freed.

Usage: scripts/bench-zset-memory.py PORT big|small
"""
import socket
import sys
import time


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port))
    replies = sock.makefile("rb")

    def read():
        line = replies.readline()
        if line[:1] == b"$":
            n = int(line[1:])
            return replies.read(n + 2)[:-2] if n >= 0 else None
        if line[:1] == b"*":
            return [read() for _ in range(int(line[1:]))]
        return line.strip()

    def rss():
        sock.sendall(encode(["INFO", "memory"]))
        info = read().decode()
        return int(next(l for l in info.split("\r\n") if l.startswith("used_memory_rss:")).split(":")[1])

    def send(batch):
        sock.sendall(b"".join(batch))
        for _ in batch:
            read()

    sock.sendall(encode(["FLUSHALL"]))
    read()
    time.sleep(1)
    before = rss()
    batch = []
    if mode == "big":
        key = "big"
        for i in range(0, 1_000_000, 1000):
            args = ["ZADD", key]
            for j in range(i, i + 1000):
                args += [str(j * 1.5), "member:%d" % j]
            batch.append(encode(args))
            if len(batch) == 50:
                send(batch)
                batch = []
    else:
        key = "key:1"
        for k in range(100_000):
            args = ["ZADD", "key:%d" % k]
            for j in range(10):
                args += [str(j), "member:%d" % j]
            batch.append(encode(args))
            if len(batch) == 500:
                send(batch)
                batch = []
    if batch:
        send(batch)
    time.sleep(1)
    after = rss()
    sock.sendall(encode(["OBJECT", "ENCODING", key]))
    encoding = read().decode()
    print(f"{mode}: {(after - before) / 1_000_000:.1f} resident bytes per member ({encoding}; rss {before} -> {after})")


if __name__ == "__main__":
    main()
