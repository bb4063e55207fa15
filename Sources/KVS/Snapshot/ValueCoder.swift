// TEMPORARY STUB: replaced by the binary coder.
import Foundation

package struct ValueCoder<V: Codable>: Sendable {
    package init() {}
    package func encode(_ value: V, into buffer: inout [UInt8]) throws(KVSError) {
        if let v = value as? [UInt8] { buffer.append(contentsOf: v); return }
        do { buffer.append(contentsOf: try JSONEncoder().encode(value)) } catch { throw KVSError(.invalidArgument, message: "\(error)") }
    }
    package func decode(from bytes: UnsafeRawBufferPointer) throws(KVSError) -> V {
        if V.self == [UInt8].self { return Array(bytes) as! V }
        do { return try JSONDecoder().decode(V.self, from: Data(bytes)) } catch { throw KVSError(.snapshotCorrupted, message: "\(error)") }
    }
}
