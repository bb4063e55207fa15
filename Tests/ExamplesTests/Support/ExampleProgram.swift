import Foundation
import Testing

/// Runs one of the examples' executables, as a person would from a shell, and captures
/// what it prints.
///
/// The executables are built with the tests (`swift build --build-tests` and `swift test`
/// build every product of the package) into the same folder as the test binary.
struct ExampleProgram {
    /// What a run printed, and how it ended.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable's name, such as `multi-thread`.
    let name: String

    /// The folder the build put the test binary in, which also holds the executables.
    static var productsFolder: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// Runs the program with `arguments` in `directory`, and waits for it to exit.
    ///
    /// - Parameter limit: how long the run may take before it is killed and the test
    ///   fails; generous, because a busy CI machine runs the other tests at the same time.
    func run(_ arguments: [String], in directory: URL? = nil, limit: Duration = .seconds(60)) async throws -> Run {
        let executable = Self.productsFolder.appendingPathComponent(name)
        try #require(
            FileManager.default.isExecutableFile(atPath: executable.path),
            "\(executable.path) is missing: build it with `swift build --build-tests`"
        )

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("kvs-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: output) }
        let stdoutURL = output.appendingPathComponent("stdout")
        let stderrURL = output.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice

        try process.run()
        // Poll rather than block: the test runs on Swift's small task pool, which the
        // other tests share. A program that outlives `limit` is killed and fails the test.
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                Issue.record("\(name) \(arguments) still running after \(limit): killed")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8)
        )
    }
}
