import BioRNN
import Foundation
import Testing

/// The command line's contract (the CommandLine article), end to end through the executable:
/// for each rough edge a user met, the exact stderr line and exit status.
@Suite("Command-line contract: exact errors, refusals, progress and exit statuses")
struct CommandLineContractTests {
    /// A small model and batch in a fresh directory.
    static func workspace() throws -> String {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 4, inputs: 1, outputs: 2, alpha: 0.5, activation: .tanh, connectivity: .gaussian(gain: 1.2), seed: 3)
        var data = RandomStream(seed: 1, purpose: .data)
        let batch = try TaskRegistry.task(named: "delayed-xor").sample(trials: 2, using: &data)
        try model.json.serialized.write(toFile: "\(dir)/model.json", atomically: true, encoding: .utf8)
        try batch.json.serialized.write(toFile: "\(dir)/batch.json", atomically: true, encoding: .utf8)
        return dir
    }

    static func expectError(_ arguments: [String], _ line: String, status: Int32 = 2, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(arguments)
        #expect(r.status == status, "\(arguments): status \(r.status), stderr \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr == line + "\n", "\(arguments)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "\(arguments)", sourceLocation: sourceLocation)
    }

    static let train = ["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "2", "--units", "4"]

    @Test("negative numbers reach the range check instead of 'Missing value'")
    func negativeNumbers() throws {
        let dir = try Self.workspace()
        try Self.expectError(["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "-1", "--seed", "1", "--iterations", "1", "--out", "\(dir)/r"],
                             "biornn: error: gain: must be a finite number ≥ 0, got -1.0")
        try Self.expectError(Self.train + ["--units", "-5", "--out", "\(dir)/r"], "biornn: error: units: must lie in 1…4096, got -5")
        try Self.expectError(["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "-3", "--iterations", "1", "--out", "\(dir)/r"],
                             "biornn: error: seed: must lie in 0…9007199254740992, got -3")
        try Self.expectError(["lyapunov", "--model", "\(dir)/model.json", "--steps", "-10"], "biornn: error: steps: must lie in 1…100000000, got -10")
        try Self.expectError(["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "-2", "--out", "\(dir)/r"],
                             "biornn: error: iterations: must lie in 0…10000000, got -2")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/r"))
    }

    @Test("scientific notation is a number wherever one is expected")
    func scientificNumbers() throws {
        let dir = try Self.workspace()
        let r = try CLI.run(["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1.5e0", "--seed", "1e0", "--iterations", "2e0",
                             "--units", "4e0", "--lr", "1e-3", "--out", "\(dir)/r"])
        #expect(r.status == 0, "\(r.stderr)")
        let config = try JSONValue.read(path: "\(dir)/r/config.json")
        #expect(config["iterations"] == .number(2) && config["units"] == .number(4) && config["gain"] == .number(1.5))
        #expect(config["optimizer"]?["lr"] == .number(0.001))
        try Self.expectError(Self.train + ["--units", "4.5", "--out", "\(dir)/q"],
                             "biornn: error: The value '4.5' is invalid for '--units <units>'")
    }

    @Test("file errors say why: no such file, is a directory, permission denied")
    func fileErrors() throws {
        let dir = try Self.workspace()
        let base = ["gradient", "--batch", "\(dir)/batch.json", "--rule", "bptt", "--model"]
        try Self.expectError(base + ["\(dir)/missing.json"], "biornn: error: \(dir)/missing.json: no such file")
        try Self.expectError(base + [dir], "biornn: error: \(dir): is a directory")
        try Self.expectError(base + ["\(dir)/model.json/x"], "biornn: error: \(dir)/model.json/x: a folder on the path is a file")
        // Unreadable: root reads everything, so the child then runs as nobody (setpriv).
        let locked = try CLI.temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked)
        try FileManager.default.copyItem(atPath: "\(dir)/model.json", toPath: "\(locked)/model.json")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: "\(locked)/model.json")
        let arguments = ["gradient", "--model", "\(locked)/model.json", "--batch", "\(locked)/model.json", "--rule", "bptt"]
        let r = getuid() == 0 ? try CLI.runAsNobody(arguments) : try CLI.run(arguments)
        #expect(r.status == 2 && r.stderr == "biornn: error: \(locked)/model.json: permission denied\n", "\(r.stderr)")
    }

    @Test("train refuses to replace a completed run without --force, and redoes a half-written one")
    func trainOverwrite() throws {
        let dir = try Self.workspace()
        let run = Self.train + ["--out", "\(dir)/run"]
        #expect(try CLI.run(run).status == 0)
        let summary = try String(contentsOfFile: "\(dir)/run/summary.json", encoding: .utf8)
        try Self.expectError(run, "biornn: error: \(dir)/run: holds a completed run (summary.json); pass --force to replace it, or choose another --out")
        #expect(try String(contentsOfFile: "\(dir)/run/summary.json", encoding: .utf8) == summary)
        let forced = try CLI.run(run + ["--force"])
        #expect(forced.status == 0 && forced.stderr.isEmpty, "\(forced.stderr)")
        // Half-written: no summary.json yet.
        try FileManager.default.removeItem(atPath: "\(dir)/run/summary.json")
        try "stale".write(toFile: "\(dir)/run/metrics.csv", atomically: true, encoding: .utf8)
        #expect(try CLI.run(run).status == 0)
        #expect(try String(contentsOfFile: "\(dir)/run/summary.json", encoding: .utf8) == summary)
        #expect(try String(contentsOfFile: "\(dir)/run/metrics.csv", encoding: .utf8).hasPrefix("iteration,"))
    }

    @Test("sizes beyond sane bounds are refused with the bound named")
    func bounds() throws {
        let dir = try Self.workspace()
        try Self.expectError(["lyapunov", "--model", "\(dir)/model.json", "--steps", "100000000000"],
                             "biornn: error: steps: must lie in 1…100000000, got 100000000000")
        try Self.expectError(["lyapunov", "--model", "\(dir)/model.json", "--transient", "1e9"],
                             "biornn: error: transient: must lie in 0…100000000, got 1000000000")
        try Self.expectError(["align", "--task", "delayed-xor", "--gain", "1", "--seeds", "100000000"],
                             "biornn: error: seeds: must lie in 1…10000, got 100000000")
        try Self.expectError(["floss", "--model", "\(dir)/model.json", "--mode", "local", "--iterations", "2000000", "--out", "\(dir)/f.json"],
                             "biornn: error: iterations: must lie in 0…1000000, got 2000000")
        try Self.expectError(Self.train.dropLast(2).map { $0 } + ["--iterations", "20000000", "--out", "\(dir)/r"],
                             "biornn: error: iterations: must lie in 0…10000000, got 20000000")
    }

    @Test("work of more than a few minutes announces its size before it starts")
    func announcement() throws {
        let dir = try Self.workspace()
        try RNN.initial(units: 64, inputs: 1, outputs: 2, alpha: 0.5, activation: .tanh, connectivity: .gaussian(gain: 1.2), seed: 5).json.serialized
            .write(toFile: "\(dir)/m64.json", atomically: true, encoding: .utf8)
        let running = try CLI.start(["lyapunov", "--model", "\(dir)/m64.json", "--k", "64", "--steps", "100000000"])
        var text = ""
        for _ in 0..<200 where !text.contains("\n") {
            Thread.sleep(forTimeInterval: 0.05)
            text = (try? String(contentsOfFile: running.errPath, encoding: .utf8)) ?? ""
        }
        kill(running.process.processIdentifier, SIGKILL)   // the child inherits a mask that blocks SIGTERM
        _ = try running.finish()
        #expect(text == "biornn: lyapunov: 100000500 steps of 64 tangent vectors in N = 64: about 8e+13 multiply-adds; this may take a long time\n")
    }

    @Test("a diverged run prints its reason on stderr and exits 3; its directory is complete")
    func diverged() throws {
        let dir = try Self.workspace()
        let r = try CLI.run(["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "20", "--units", "4",
                             "--optimizer", "sgd", "--lr", "1e9", "--clip", "0", "--out", "\(dir)/run"])
        #expect(r.status == 3)
        let summary = try JSONValue.read(path: "\(dir)/run/summary.json")
        guard case let .string(reason)? = summary["reason"] else { Issue.record("no reason in \(summary)"); return }
        #expect(summary["status"] == .string("diverged"))
        #expect(r.stderr == "biornn: train: the run diverged: \(reason) (\(dir)/run/summary.json has status diverged)\n")
    }

    @Test("old spellings are refused with the new name: a file is --batch FILE, a count is --trials N")
    func renamedOptions() throws {
        let dir = try Self.workspace()
        try Self.expectError(Self.train + ["--batch-size", "8", "--out", "\(dir)/r"], "biornn: error: batch-size: renamed to --trials")
        try Self.expectError(["task", "sample", "--task", "delayed-xor", "--batch", "3", "--seed", "1"],
                             "biornn: error: batch: renamed to --trials (--batch names a batch file in every other command)")
        try Self.expectError(["bench", "--what", "bptt", "--n", "8"], "biornn: error: n: renamed to --units")
        try Self.expectError(["bench", "--what", "bptt", "--units", "8", "--t", "3"], "biornn: error: t: renamed to --steps")
        try Self.expectError(["bench", "--what", "bptt", "--units", "8", "--b", "3"], "biornn: error: b: renamed to --trials")
        let r = try CLI.run(["task", "sample", "--task", "delayed-xor", "--trials", "2", "--seed", "1"])
        #expect(r.status == 0 && r.stdout.hasPrefix("{\"inputs\""))
    }

    @Test("unknown names suggest the nearest valid one")
    func suggestions() throws {
        let dir = try Self.workspace()
        try Self.expectError(["gradient", "--model", "\(dir)/model.json", "--batch", "\(dir)/batch.json", "--rule", "epropp"],
                             "biornn: error: rule: unknown rule 'epropp' (did you mean 'eprop'? known: bptt, rtrl, tbptt:K, eprop, eprop-random, rflo, modprop, modprop:μ)")
        try Self.expectError(["train", "--task", "delayed-xr", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "1", "--out", "\(dir)/r"],
                             "biornn: error: task: unknown task 'delayed-xr' (did you mean 'delayed-xor'? known: perceptual-decision, delay-match-sample, context-decision, delayed-xor, pattern-generation)")
        try Self.expectError(Self.train + ["--activation", "relu6", "--out", "\(dir)/r"],
                             "biornn: error: activation: unknown activation 'relu6' (did you mean 'relu'? known: tanh, retanh, relu, softplus, linear)")
        try Self.expectError(Self.train + ["--init", "gausian", "--out", "\(dir)/r"],
                             "biornn: error: init: unknown connectivity 'gausian' (did you mean 'gaussian'? known: gaussian, orthogonal, sparse, dale)")
        try Self.expectError(["lyapunov", "--model", "\(dir)/model.json", "--method", "tangnet"],
                             "biornn: error: method: unknown method 'tangnet' (did you mean 'tangent'? known: qr, tangent, twin)")
        try Self.expectError(["gradient", "--model", "\(dir)/model.json", "--batch", "\(dir)/batch.json", "--rule", "zzz"],
                             "biornn: error: rule: unknown rule 'zzz' (known: bptt, rtrl, tbptt:K, eprop, eprop-random, rflo, modprop, modprop:μ)")
        try Self.expectError(Self.train + ["--itrations", "3", "--out", "\(dir)/r"],
                             "biornn: error: Unknown option '--itrations'. Did you mean '--iterations'?")
    }

    @Test("a name that becomes part of a path is refused up front, and nothing is written")
    func pathNames() throws {
        let dir = try Self.workspace()
        for name in ["x/../../y", "..", ".hidden", "a b", ""] {
            let config = #"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["eprop"], "seeds": [1], "units": 4, "iterations": 1, "flossing": {"NAME": "mode=local,pre=1"}, "floss_rules": ["eprop"]}"#
                .replacingOccurrences(of: "NAME", with: name)
            try config.write(toFile: "\(dir)/sweep.json", atomically: true, encoding: .utf8)
            try Self.expectError(["sweep", "\(dir)/sweep.json", "--out", "\(dir)/out"],
                                 "biornn: error: \(dir)/sweep.json: flossing: '\(name)' cannot be part of a path: use 1–64 characters from A–Z a–z 0–9 . _ -, not starting with a dot")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/out"), "\(name)")
        }
        #expect(SafeName.isValid("local-k3_v1.0") && !SafeName.isValid(String(repeating: "a", count: 65)))
    }

    @Test("sweep prints a line per finished run when stderr is not a terminal")
    func sweepLog() throws {
        let dir = try Self.workspace()
        try #"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt", "eprop"], "seeds": [1], "units": 4, "iterations": 2, "eval_trials": 8}"#
            .write(toFile: "\(dir)/sweep.json", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sweep", "\(dir)/sweep.json", "--out", "\(dir)/out"])
        #expect(r.status == 0)
        #expect(r.stderr == "sweep: 1/2 delayed-xor_gaussian_g1_bptt_none_s1: trained\nsweep: 2/2 delayed-xor_gaussian_g1_eprop_none_s1: trained\n")
        let again = try CLI.run(["sweep", "\(dir)/sweep.json", "--out", "\(dir)/out"])
        #expect(again.stderr.hasSuffix("sweep: 2/2 delayed-xor_gaussian_g1_eprop_none_s1: already complete\n"))
    }

    @Test("long commands show progress with the time left on a terminal", arguments: [
        ["lyapunov", "--model", "MODEL", "--steps", "20000"],
        ["floss", "--model", "MODEL", "--mode", "local", "--iterations", "3", "--window", "20", "--transient", "10", "--out", "DIR/f.json"],
        ["align", "--task", "delayed-xor", "--gain", "1", "--seeds", "2", "--units", "4", "--rules", "eprop"],
        ["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "3", "--units", "4", "--out", "DIR/r"],
    ])
    func terminalProgress(_ template: [String]) throws {
        let dir = try Self.workspace()
        let arguments = template.map { $0.replacingOccurrences(of: "MODEL", with: "\(dir)/model.json").replacingOccurrences(of: "DIR", with: dir) }
        let r = try CLI.runOnTerminal(arguments)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("\(arguments[0]): ") && r.stdout.contains("ETA") && r.stdout.contains("\r\u{1B}[2K"), "\(r.stdout)")
    }
}
