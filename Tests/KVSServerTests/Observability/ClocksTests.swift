import Foundation
import Testing

@testable import KVSServer

/// The clock that times commands: its ticks, once converted, agree with the monotonic clock.
@Suite("Clocks")
struct ClocksTests {
    @Test func commandClockAgreesWithTheMonotonicClock() {
        for clock in [CommandClock.shared, CommandClock.monotonic] {
            let before = MonotonicClock.nanoseconds()
            let start = clock.ticks()
            usleep(50_000)
            let end = clock.ticks()
            let after = MonotonicClock.nanoseconds()
            let measured = clock.nanoseconds(ticks: end - start)
            // The ticks are read inside the clock reads, so at most their interval (plus the
            // rate's error), and at least the sleep.
            #expect(measured >= 50_000_000, "\(clock)")
            #expect(measured <= (after - before) + (after - before) / 1000, "\(clock)")
        }
    }

    @Test func commandClockUsesTheCycleCounterWhereLinuxDoes() throws {
        #if os(Linux) && arch(x86_64)
        let source = try? String(
            contentsOfFile: "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            encoding: .utf8
        )
        #expect(CommandClock.shared.countsCycles == (source == "tsc\n"))
        #else
        #expect(!CommandClock.shared.countsCycles)
        #endif
    }

    @Test func ticksConvertToNanoseconds() {
        let cycles = CommandClock(countsCycles: true, nanosecondsPerTick: 0.25)
        #expect(cycles.nanoseconds(ticks: 4_000) == 1_000)
        #expect(cycles.nanoseconds(ticks: 0) == 0)
        #expect(cycles.nanoseconds(ticks: -3) == 0, "counters of two cores a few ticks apart")
        #expect(cycles.nanoseconds(ticks: 40_000_000_000) == 10_000_000_000, "a 10 s command")
        #expect(CommandClock.monotonic.nanoseconds(ticks: 1_234) == 1_234)
        #expect(CommandClock.monotonic.ticks(monotonic: 42) == 42)
    }
}
