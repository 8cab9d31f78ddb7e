import Foundation

extension CLI {
    /// Runs the executable as user nobody (setpriv), for checks that root's privileges would
    /// hide (an unreadable file). The executable is copied to a folder nobody can reach.
    static func runAsNobody(_ arguments: [String]) throws -> CLIResult {
        let dir = try temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        let copy = "\(dir)/biornn"
        try FileManager.default.copyItem(atPath: executable.path, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try run(via: "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", copy] + arguments)
    }

    /// Runs the executable with its stdout and stderr on a pseudo-terminal (util-linux `script`),
    /// as a person at a terminal would; what the terminal showed comes back as stdout.
    static func runOnTerminal(_ arguments: [String]) throws -> CLIResult {
        let command = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try run(via: "/usr/bin/script", ["--quiet", "--return", "--command", command, "/dev/null"])
    }

    /// Runs another program with the children's environment.
    static func run(via program: String, _ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = childEnvironment
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: "\(dir)/out", contents: nil)
        _ = FileManager.default.createFile(atPath: "\(dir)/err", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: "\(dir)/out")!
        process.standardError = FileHandle(forWritingAtPath: "\(dir)/err")!
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: try String(contentsOfFile: "\(dir)/out", encoding: .utf8),
                         stderr: try String(contentsOfFile: "\(dir)/err", encoding: .utf8))
    }
}
