import NIOCore
import RESP
import Testing

@Suite struct RESPValueTests {
    @Test func constructors() {
        #expect(RESPValue.bulk("text") == .bulkString(ByteBuffer(string: "text")))
        #expect(RESPValue.bulk([0, 1, 255]) == .bulkString(ByteBuffer(bytes: [0, 1, 255])))
        #expect(RESPValue.ok == .simpleString("OK"))
        #expect(RESPValue.command(["SET", "k", "v"]) == .array([.bulk("SET"), .bulk("k"), .bulk("v")]))
    }

    @Test func accessors() {
        #expect(RESPValue.bulk("text").stringValue == "text")
        #expect(RESPValue.simpleString("OK").stringValue == "OK")
        #expect(RESPValue.bulk([0xFF]).stringValue == nil)
        #expect(RESPValue.integer(1).stringValue == nil)
        #expect(
            RESPValue.verbatimString(format: "txt", text: ByteBuffer(string: "v")).bufferValue
                == ByteBuffer(string: "v")
        )
        #expect(RESPValue.integer(7).intValue == 7)
        #expect(RESPValue.double(1.5).doubleValue == 1.5)
        #expect(RESPValue.boolean(true).boolValue == true)
        #expect(RESPValue.set([.integer(1)]).elements == [.integer(1)])
        #expect(RESPValue.nullArray.elements == nil)
        #expect(RESPValue.map([(key: .integer(1), value: .null)]).pairs?.first?.key == .integer(1))
        #expect(RESPValue.null.isNull && RESPValue.nullBulkString.isNull && RESPValue.nullArray.isNull)
        #expect(!RESPValue.bulk("").isNull)
        #expect(RESPValue.error("ERR x").errorMessage == "ERR x")
        #expect(RESPValue.blobError(ByteBuffer(string: "ERR y")).errorMessage == "ERR y")
        #expect(RESPValue.attribute([], .attribute([], .integer(1))).withoutAttributes == .integer(1))
    }

    @Test func equality() {
        #expect(RESPValue.double(.nan) == .double(.nan))
        #expect(RESPValue.double(0) == .double(-0.0))
        #expect(RESPValue.null != .nullBulkString)
        #expect(RESPValue.array([.integer(1)]) != .set([.integer(1)]))
        #expect(
            RESPValue.map([(key: .integer(1), value: .integer(2))]) != .map([(key: .integer(2), value: .integer(1))])
        )
        // A bulk string compares by its readable bytes, wherever they sit in storage.
        var sliced = ByteBuffer(string: "xxabc")
        sliced.moveReaderIndex(forwardBy: 2)
        #expect(RESPValue.bulkString(sliced) == .bulk("abc"))
    }

    @Test func descriptionEscapesBinary() {
        #expect(
            RESPValue.bulk([0x00, 0x0D, 0x0A, 0x22, 0x5C, 0x61, 0xFF, 0x07, 0x08, 0x09]).description
                == #""\x00\r\n\"\\a\xff\a\b\t""#
        )
        #expect(RESPValue.integer(5).description == "(integer) 5")
        #expect(RESPValue.nullBulkString.description == "(nil)")
        #expect(RESPValue.error("ERR \n").description == "(error) ERR \\n")
        #expect(RESPValue.command(["GET", "k"]).description == #"["GET", "k"]"#)
        #expect(
            RESPValue.map([(key: .bulk("k"), value: .set([.boolean(true)]))]).description == #"{"k": ~{(true)}}"#
        )
        #expect(
            RESPValue.attribute([(key: .bulk("a"), value: .integer(1))], .ok).description
                == #"|{"a": (integer) 1} "OK""#
        )
        #expect(RESPValue.push([.double(1.5)]).description == ">[(double) 1.5]")
    }
}
