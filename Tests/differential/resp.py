"""A small RESP2/RESP3 client that keeps every reply's exact type.

Replies are `Reply` tuples of (type, value) so that a simple string and a bulk string with
the same bytes, or a RESP2 null bulk and a RESP3 null, compare unequal. Standard library only.
"""

import socket
from typing import NamedTuple, Optional


class Reply(NamedTuple):
    """One decoded reply: `kind` names the RESP type, `value` holds its payload.

    kinds and values:
      simple   bytes            +OK
      error    bytes            -ERR ...
      int      int              :1
      bulk     bytes            $3 abc
      nullbulk None             $-1 (RESP2)
      nullarray None            *-1 (RESP2)
      null     None             _ (RESP3)
      array    tuple of Reply   *N
      map      tuple of (Reply, Reply) pairs   %N
      set      tuple of Reply   ~N
      push     tuple of Reply   >N
      double   bytes (the text as sent)        ,1.5
      bool     bool             #t / #f
      verbatim (format bytes, bytes)           =N txt:...
      bignum   bytes            (123...
      blobError bytes           !N ...
    """

    kind: str
    value: object


class Incomplete(Exception):
    """Raised inside the parser when the buffer ends before a whole reply."""


class ProtocolError(Exception):
    """The peer sent bytes that are not RESP."""


class Parser:
    """An incremental RESP parser: `feed` bytes in any split, `next_reply` returns whole replies.

    Attribute frames (`|`) are read and dropped, as a client that does not ask for them would.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_reply(self) -> Optional[Reply]:
        """The next complete reply, or None if more bytes are needed."""
        start = self._pos
        try:
            reply = self._parse()
        except Incomplete:
            self._pos = start
            return None
        # Drop consumed bytes now and then so the buffer does not grow without bound.
        if self._pos > 65536:
            del self._buf[: self._pos]
            self._pos = 0
        return reply

    def _line(self) -> bytes:
        end = self._buf.find(b"\r\n", self._pos)
        if end < 0:
            raise Incomplete()
        line = bytes(self._buf[self._pos : end])
        self._pos = end + 2
        return line

    def _exact(self, n: int) -> bytes:
        if len(self._buf) < self._pos + n + 2:
            raise Incomplete()
        data = bytes(self._buf[self._pos : self._pos + n])
        if self._buf[self._pos + n : self._pos + n + 2] != b"\r\n":
            raise ProtocolError("bulk string not followed by CRLF")
        self._pos += n + 2
        return data

    def _count(self, text: bytes) -> int:
        try:
            return int(text)
        except ValueError:
            raise ProtocolError("bad length %r" % text) from None

    def _parse(self) -> Reply:
        if self._pos >= len(self._buf):
            raise Incomplete()
        prefix = self._buf[self._pos : self._pos + 1]
        self._pos += 1
        line = self._line()
        if prefix == b"+":
            return Reply("simple", line)
        if prefix == b"-":
            return Reply("error", line)
        if prefix == b":":
            return Reply("int", self._count(line))
        if prefix == b"$":
            n = self._count(line)
            if n < 0:
                return Reply("nullbulk", None)
            return Reply("bulk", self._exact(n))
        if prefix == b"*":
            n = self._count(line)
            if n < 0:
                return Reply("nullarray", None)
            return Reply("array", tuple(self._parse() for _ in range(n)))
        if prefix == b"_":
            return Reply("null", None)
        if prefix == b",":
            return Reply("double", line)
        if prefix == b"#":
            if line not in (b"t", b"f"):
                raise ProtocolError("bad boolean %r" % line)
            return Reply("bool", line == b"t")
        if prefix == b"(":
            return Reply("bignum", line)
        if prefix == b"!":
            return Reply("blobError", self._exact(self._count(line)))
        if prefix == b"=":
            data = self._exact(self._count(line))
            if len(data) < 4 or data[3:4] != b":":
                raise ProtocolError("verbatim string without a format")
            return Reply("verbatim", (data[:3], data[4:]))
        if prefix == b"%":
            n = self._count(line)
            return Reply("map", tuple((self._parse(), self._parse()) for _ in range(n)))
        if prefix == b"~":
            return Reply("set", tuple(self._parse() for _ in range(self._count(line))))
        if prefix == b">":
            return Reply("push", tuple(self._parse() for _ in range(self._count(line))))
        if prefix == b"|":
            n = self._count(line)
            for _ in range(n):
                self._parse()
                self._parse()
            return self._parse()
        raise ProtocolError("unknown reply prefix %r" % bytes(prefix))


def encode_command(args) -> bytes:
    """A command as a RESP array of bulk strings (arguments are bytes or str)."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


class ConnectionLost(Exception):
    """The server closed the connection or did not answer in time."""


class Connection:
    """One blocking connection to a server; `call` sends a command and reads its reply."""

    def __init__(self, port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.parser = Parser()

    def send(self, args) -> None:
        try:
            self.sock.sendall(encode_command(args))
        except OSError as e:
            raise ConnectionLost("send failed: %s" % e) from None

    def read_reply(self) -> Reply:
        while True:
            reply = self.parser.next_reply()
            if reply is not None:
                return reply
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise ConnectionLost("no reply within the timeout") from None
            except OSError as e:
                raise ConnectionLost("read failed: %s" % e) from None
            if not data:
                raise ConnectionLost("connection closed")
            self.parser.feed(data)

    def call(self, *args) -> Reply:
        self.send(args)
        return self.read_reply()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def to_python(reply: Reply):
    """A reply as plain Python values (for printing and for keyspace dumps)."""
    k, v = reply
    if k in ("array", "set", "push"):
        return [to_python(x) for x in v]
    if k == "map":
        return [(to_python(a), to_python(b)) for a, b in v]
    return v


def format_reply(reply: Reply, indent: str = "") -> str:
    """A reply as redis-cli prints it, with the RESP type named so type mismatches show."""
    k, v = reply
    if k == "simple":
        return "%s(simple) %s" % (indent, v.decode("latin-1"))
    if k in ("error", "blobError"):
        return "%s(error) %s" % (indent, v.decode("latin-1"))
    if k == "int":
        return "%s(integer) %d" % (indent, v)
    if k == "bulk":
        return "%s(bulk) %s" % (indent, quote_arg(v))
    if k in ("nullbulk", "nullarray", "null"):
        return "%s(%s)" % (indent, k)
    if k == "double":
        return "%s(double) %s" % (indent, v.decode("latin-1"))
    if k == "bool":
        return "%s(bool) %s" % (indent, v)
    if k == "bignum":
        return "%s(bignum) %s" % (indent, v.decode("latin-1"))
    if k == "verbatim":
        return "%s(verbatim %s) %s" % (indent, v[0].decode("latin-1"), quote_arg(v[1]))
    if k in ("array", "set", "push"):
        if not v:
            return "%s(empty %s)" % (indent, k)
        lines = ["%s(%s of %d)" % (indent, k, len(v))]
        lines += [format_reply(x, indent + "  ") for x in v]
        return "\n".join(lines)
    if k == "map":
        if not v:
            return "%s(empty map)" % indent
        lines = ["%s(map of %d)" % (indent, len(v))]
        for a, b in v:
            lines.append(format_reply(a, indent + "  ") + " =>")
            lines.append(format_reply(b, indent + "    "))
        return "\n".join(lines)
    return "%s(%s) %r" % (indent, k, v)


def quote_arg(arg) -> str:
    """An argument as redis-cli accepts it: bare when plain, else double-quoted with escapes."""
    if isinstance(arg, str):
        arg = arg.encode()
    # A word starting with # is quoted: bare, it would read back as a comment.
    plain = arg and arg[0] != 0x23 and all(0x21 <= b <= 0x7E and b not in b"\"'\\" for b in arg)
    if plain:
        return arg.decode()
    out = []
    for b in arg:
        if b == 0x22:
            out.append('\\"')
        elif b == 0x5C:
            out.append("\\\\")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return '"' + "".join(out) + '"'
