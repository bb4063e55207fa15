import Foundation
import KVS
import NIOCore
import RESP

/// Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, RESET (CLIENT is in
/// ClientCommands.swift).
enum ConnectionCommands {
    static let all: [CommandSpec] = [
        .session(
            "ping",
            arity: -1,
            flags: [.pure, .fast],
            group: "connection",
            summary: "Returns the server's liveliness response.",
            ping
        ),
        .session(
            "echo",
            arity: 2,
            flags: [.pure, .fast],
            group: "connection",
            summary: "Returns the given string.",
            echo
        ),
        .session(
            "quit",
            arity: -1,
            flags: [.noAuth, .notQueued, .fast],
            group: "connection",
            summary: "Closes the connection.",
            quit
        ),
        .session(
            "hello",
            arity: -1,
            flags: [.noAuth, .fast, .barrier],
            group: "connection",
            summary: "Handshakes with the Redis server.",
            hello
        ),
        .session(
            "auth",
            arity: -2,
            flags: [.noAuth, .fast, .barrier],
            group: "connection",
            summary: "Authenticates the connection.",
            auth
        ),
        .session(
            "select",
            arity: 2,
            flags: [.fast, .barrier],
            group: "connection",
            summary: "Changes the selected database.",
            select
        ),
        .session(
            "reset",
            arity: 1,
            flags: [.noAuth, .notQueued, .fast],
            group: "connection",
            summary: "Resets the connection.",
            reset
        ),
    ]

    /// The Redis version the server reports: the release its replies are checked against.
    static let redisVersion = "7.0.15"

    static func ping(_ c: inout SessionCall) throws {
        guard c.count <= 2 else { throw CommandError.wrongArity("ping") }
        if c.count == 2 { c.bulk(c.bytes(1)) } else { c.simple("PONG") }
    }

    static func echo(_ c: inout SessionCall) throws {
        c.bulk(c.bytes(1))
    }

    static func quit(_ c: inout SessionCall) throws {
        c.session.closeAfterReply = true
        c.ok()
    }

    static func select(_ c: inout SessionCall) throws {
        // Redis reads the index as a C `int`.
        let n = try c.integer(1)
        guard n >= Int64(Int32.min), n <= Int64(Int32.max) else {
            throw CommandError("ERR value is out of range, value must between -2147483648 and 2147483647")
        }
        guard n >= 0, n < Int64(c.server.databases.count) else { throw CommandError("ERR DB index is out of range") }
        c.select(Int(n))
        c.ok()
    }

    /// Checks `user`/`password` against the configured password.
    static func check(user: String, password: String, server: ServerState) throws(CommandError) {
        let expected = server.password.withLock { $0 }
        // Without a password the default user is `nopass`: any password is accepted for it.
        guard user == "default", expected == nil || password == expected else {
            throw CommandError("WRONGPASS invalid username-password pair or user is disabled.")
        }
    }

    static func auth(_ c: inout SessionCall) throws {
        guard c.count <= 3 else { throw CommandError.syntax }
        let user = c.count == 3 ? c.string(1) : "default"
        if c.count == 2, c.server.password.withLock({ $0 }) == nil {
            throw CommandError(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
            )
        }
        try check(user: user, password: c.string(c.count - 1), server: c.server)
        c.session.authenticated = true
        c.ok()
    }

    static func hello(_ c: inout SessionCall) throws {
        var version = c.session.protocolVersion
        var i = 1
        if c.count >= 2 {
            guard let v = RedisNumber.parseInt64(c.args[1].readableBytesView) else {
                throw CommandError("ERR Protocol version is not an integer or out of range")
            }
            guard v == 2 || v == 3 else { throw CommandError("NOPROTO unsupported protocol version") }
            version = v == 3 ? .resp3 : .resp2
            i = 2
        }
        var authenticate: (String, String)? = nil
        var name: String? = nil
        while i < c.count {
            let opt = c.option(i)
            if opt == "AUTH", i + 2 < c.count {
                authenticate = (c.string(i + 1), c.string(i + 2))
                i += 3
            } else if opt == "SETNAME", i + 1 < c.count {
                name = c.string(i + 1)
                i += 2
            } else {
                throw CommandError(formatting: "ERR Syntax error in HELLO option '\(argument: c.args[i])'")
            }
        }
        if let (user, password) = authenticate {
            try check(user: user, password: password, server: c.server)
            c.session.authenticated = true
        }
        if !c.session.authenticated {
            throw CommandError(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
            )
        }
        if let name {
            guard validName(name) else {
                throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
            }
            c.session.name = name
            c.session.info.name = name
        }
        c.setProtocol(version)
        c.mapHeader(7)
        c.bulk("server")
        c.bulk("redis")
        c.bulk("version")
        c.bulk(redisVersion)
        c.bulk("proto")
        c.integer(reply: version.rawValue)
        c.bulk("id")
        c.integer(reply: c.session.id)
        c.bulk("mode")
        c.bulk("standalone")
        c.bulk("role")
        c.bulk("master")
        c.bulk("modules")
        c.arrayHeader(0)
    }

    static func validName(_ name: String) -> Bool {
        name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    static func subcommandArity(_ c: SessionCall) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(c.name)|\(c.string(1).lowercased())' command")
    }

    static func reset(_ c: inout SessionCall) throws {
        c.session.queued = nil
        c.session.queueFailed = false
        c.session.unwatchAll(server: c.server)
        c.select(0)
        c.setProtocol(.resp2)
        c.session.name = ""
        c.session.info.name = ""
        c.session.authenticated = !c.server.requiresAuth
        c.session.replyMode = .on
        if c.session.info.isMonitor {
            c.server.monitors.remove(id: c.session.id)
            c.session.info.isMonitor = false
        }
        c.simple("RESET")
    }
}
