import BioRNN
import Foundation

/// Runs the built `biornn` executable and captures what it prints.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLI {
    /// The biornn binary next to the test bundle (SwiftPM puts products in one folder).
    static let executable: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("biornn")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        // Fallback: the package's own build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["release", "debug"] {
            let candidate = root.appendingPathComponent(".build/\(config)/biornn")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        fatalError("cannot find the biornn executable near \(CommandLine.arguments[0])")
    }()

    /// The environment for every child: this one, with OPENBLAS_CORETYPE pinned to this process's
    /// BLAS kernels (biornn would otherwise switch away from a misdetected Prescott, see
    /// BLAS.betterCoreType), so that its numbers can equal the library's here to the last bit.
    static let childEnvironment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        if env["OPENBLAS_CORETYPE"] == nil { env["OPENBLAS_CORETYPE"] = BLAS.coreName }
        return env
    }()

    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> CLIResult {
        try start(arguments, environment: environment).finish()
    }

    /// Starts the executable without waiting, so that several can run at once.
    static func start(_ arguments: [String], environment: [String: String]? = nil) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = childEnvironment.merging(environment ?? [:]) { $1 }
        // Output goes to files, not pipes: nothing can block however much the child prints.
        let dir = try temporaryDirectory()
        let running = Running(process: process, directory: dir)
        _ = FileManager.default.createFile(atPath: running.outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: running.errPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: running.outPath)!
        process.standardError = FileHandle(forWritingAtPath: running.errPath)!
        try process.run()
        return running
    }

    struct Running {
        let process: Process
        let directory: String
        var outPath: String { directory + "/stdout" }
        var errPath: String { directory + "/stderr" }

        func finish() throws -> CLIResult {
            process.waitUntilExit()
            try (process.standardOutput as? FileHandle)?.close()
            try (process.standardError as? FileHandle)?.close()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return CLIResult(status: process.terminationStatus,
                             stdout: try String(contentsOfFile: outPath, encoding: .utf8),
                             stderr: try String(contentsOfFile: errPath, encoding: .utf8))
        }
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biornn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }
}
