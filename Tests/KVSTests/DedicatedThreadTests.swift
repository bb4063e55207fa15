import KVSTestSupport
import Testing

/// The test support that keeps long tests off Swift's cooperative pool: a body given to
/// `onDedicatedThread`, or a test with `.dedicatedThread`, runs on a thread of its own, in
/// a child task of the calling test (so Swift Testing still knows which test an `#expect`
/// belongs to).
@Suite("Test support: dedicated threads")
struct DedicatedThreadTests {
    static var isDedicated: Bool { DedicatedThreadExecutor.isCurrentThreadDedicated }

    @Test func aBodyRunsOnAThreadOfItsOwnInTheCallingTest() async throws {
        let (dedicated, test) = try await onDedicatedThread { (Self.isDedicated, Test.current?.name) }
        #expect(dedicated)
        #expect(test == "aBodyRunsOnAThreadOfItsOwnInTheCallingTest()")
    }

    @Test func errorsAndResultsPassThrough() async throws {
        struct Refused: Error {}
        #expect(try await onDedicatedThread { () throws -> Int in 42 } == 42)
        await #expect(throws: Refused.self) { try await onDedicatedThread { () throws -> Int in throw Refused() } }
    }

    @Test func childTasksOfAnAsyncBodyRunOnThreadsOfTheirOwn() async throws {
        let dedicated = try await onDedicatedThread {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { Self.isDedicated } }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(dedicated == [true, true, true, true])
    }

    @Test(.dedicatedThread) func theTraitRunsASynchronousTestOnAThreadOfItsOwn() {
        #expect(Self.isDedicated)
    }

    @Test(.dedicatedThread, arguments: 0..<50) func andEachCaseOfAParameterizedOne(_: Int) {
        #expect(Self.isDedicated)
    }
}
