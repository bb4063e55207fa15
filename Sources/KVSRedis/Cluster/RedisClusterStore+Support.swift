import KVS
import NIOCore
import RESP

// The cluster store's shared steps: encoding, decoding, and turning replies that are not what a
// command expects into KVSErrors that name the node that sent them.
extension RedisClusterStore {
    func encode(_ value: Value, key: String) throws(KVSError) -> ByteBuffer {
        try Value.encode(value, key: key)
    }

    func decode(_ bytes: ByteBuffer, key: String, node: RedisEndpoint) throws(KVSError) -> Value {
        try Value.decode(bytes, key: key, node: "\(node)")
    }

    /// `+OK`, or the error the reply stands for.
    func expectOK(_ reply: ClusterReply, key: String) throws(KVSError) {
        if let message = reply.value.errorMessage {
            throw ClusterRouter.replyError(message, node: reply.node, key: key)
        }
        guard case .simpleString("OK") = reply.value else { throw unexpected(reply, command: "SET", key: key) }
    }

    func unexpected(_ reply: ClusterReply, command: String, key: String?) -> KVSError {
        KVSError(
            .protocolError,
            key: key,
            message: "\(reply.node) sent an unexpected reply to \(command): \(reply.value)"
        )
    }
}
