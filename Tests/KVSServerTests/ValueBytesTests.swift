import KVSServer
import Testing

@Suite("ValueBytes: a stored value's compact block")
struct ValueBytesTests {
    @Test(arguments: [0, 1, 7, 64, 65, 4096])
    func holdsACopyOfItsBytes(count: Int) {
        var source = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let value = ValueBytes(source)
        if count > 0 { source[0] ^= 0xFF }  // the value must not see later changes
        let expected = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(value.count == count)
        #expect(value.array == expected)
        #expect(Array(value) == expected, "iterating as a collection gives the bytes in order")
        #expect(value.withUnsafeBytes { Array($0) } == expected)
        #expect(value.withContiguousStorageIfAvailable { Array($0) } == expected)
        #expect(expected.withUnsafeBytes { ValueBytes($0) } == value)
    }

    @Test func equalityComparesBytes() {
        #expect(ValueBytes([1, 2, 3]) == ValueBytes([1, 2, 3]))
        #expect(ValueBytes([1, 2, 3]) != ValueBytes([1, 2, 4]))
        #expect(ValueBytes([1, 2]) != ValueBytes([1, 2, 0]))
        #expect(ValueBytes([]) == ValueBytes([]))
        let shared = ValueBytes([9])
        let copy = shared
        #expect(copy == shared)
    }
}
