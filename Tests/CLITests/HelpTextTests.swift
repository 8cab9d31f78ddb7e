import Foundation
import Testing

/// The exact `--help` text of every command, pinned as swift-argument-parser pins its own: a
/// change to an option or its explanation shows up here as a diff to review. Regenerate the
/// files after an intended change with
///
///     BIORNN_RECORD_HELP=1 swift test -c release --filter HelpTextTests
///
/// and commit them with the change.
@Suite("Help texts: every command's --help, exactly")
struct HelpTextTests {
    static let commands: [[String]] = [
        [], ["reproduce"], ["train"], ["gradient"], ["conform"], ["lyapunov"], ["floss"], ["align"], ["sweep"], ["collect"], ["report"],
        ["task"], ["task", "list"], ["task", "sample"], ["bench"], ["golden"], ["golden", "check"], ["golden", "record"],
    ]

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HelpTexts")

    static func file(_ command: [String]) -> URL {
        folder.appendingPathComponent((command.isEmpty ? "biornn" : command.joined(separator: "-")) + ".txt")
    }

    @Test("--help prints the recorded text", arguments: commands)
    func help(_ command: [String]) throws {
        // A fixed width, whatever terminal the tests run in.
        let r = try CLI.run(command + ["--help"], environment: ["COLUMNS": "100"])
        #expect(r.status == 0 && r.stderr.isEmpty)
        let url = Self.file(command)
        if ProcessInfo.processInfo.environment["BIORNN_RECORD_HELP"] == "1" {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            try r.stdout.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let recorded = try String(contentsOf: url, encoding: .utf8)
        #expect(r.stdout == recorded, "biornn \(command.joined(separator: " ")) --help differs from \(url.lastPathComponent); if intended, regenerate (see HelpTextTests)")
    }

    @Test("every subcommand biornn --help lists has a recorded help text here")
    func everySubcommandRecorded() throws {
        let top = try String(contentsOf: Self.file([]), encoding: .utf8)
        let section = (top.components(separatedBy: "SUBCOMMANDS:\n").last ?? "").components(separatedBy: "\n\n")[0]
        let listed = section.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }.map { String($0.split(separator: " ")[0]) }
        #expect(listed.count >= 12)
        for name in listed { #expect(Self.commands.contains([name]), "biornn \(name) has no entry in HelpTextTests.commands") }
    }
}
