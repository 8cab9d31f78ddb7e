import BioRNN
import Foundation
import Testing

/// `biornn conform`: the kit on a built-in rule, and on rules computed by another program
/// (examples/conform, in NumPy).
@Suite("CLI: conform")
struct ConformCLITests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/conform")
    static let claims = ["--claims", "equalsStopGradientBPTT", "--claims", "exactReadout", "--claims", "equalsBPTTWithoutRecurrence"]

    /// NumPy from PyPI when it is missing.
    static func ensureNumPy() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "python3 -c 'import numpy' 2>/dev/null || python3 -m pip install --quiet numpy"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "NumPy is missing and pip could not install it")
    }

    @Test("the NumPy e-prop passes every check, its increments certified causal")
    func numpyEPropPasses() throws {
        try Self.ensureNumPy()
        let r = try CLI.run(["conform", "--exec", "python3 '\(Self.examples.path)/eprop.py'", "--name", "numpy-eprop", "--cases", "3"] + Self.claims)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("conformance of numpy-eprop: all checks pass\n"), "\(r.stdout)")
        #expect(r.stdout.contains("  pass  equals stop-gradient BPTT: every tensor against stop-gradient BPTT, 3 networks; worst "))
        #expect(r.stdout.contains("  pass  online: causal: ") && r.stdout.contains("  online: causal increments; the state is not measured (an external program's state is its own)\n"))
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }

    @Test("its copy with a planted bug (recurrent trace 2% fast) fails, one line naming the check and the tensor")
    func plantedBugFails() throws {
        try Self.ensureNumPy()
        let r = try CLI.run(["conform", "--exec", "python3 '\(Self.examples.path)/eprop_planted_bug.py'", "--name", "planted", "--cases", "3"] + Self.claims)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("conformance of planted: FAILED\n"))
        let failures = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  FAIL") }
        #expect(failures.contains { $0.hasPrefix("  FAIL  equals stop-gradient BPTT: case 0: w_rec off by ") }, "\(r.stdout)")
        #expect(r.stdout.contains("  pass  exact readout: ") && r.stdout.contains("  pass  online: causal: "))
    }

    @Test("a built-in rule by name: the report, exit 0")
    func builtInRule() throws {
        let r = try CLI.run(["conform", "--rule", "tbptt:2", "--cases", "2"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("conformance of tbptt:2: all checks pass\n"))
        #expect(r.stdout.contains("  pass  reduction: with K ≥ T it equals BPTT: the special case against BPTT, 2 networks; worst "))
        #expect(r.stdout.contains("  online: certified (causal; a state of at most "))
    }

    @Test("bad input: one line naming the option, exit 2", arguments: [
        (["conform"], "biornn: error: rule: give exactly one of --rule and --exec\n"),
        (["conform", "--rule", "eprop", "--exec", "true"], "biornn: error: rule: give exactly one of --rule and --exec\n"),
        (["conform", "--rule", "magic"], "biornn: error: rule: unknown rule 'magic' (known: bptt, rtrl, tbptt:K, eprop, eprop-random, rflo, modprop, modprop:μ)\n"),
        (["conform", "--exec", "true", "--claims", "exact"], "biornn: error: claims: unknown relation 'exact' (did you mean 'exactReadout'? known: equalsBPTT, equalsBPTTWithoutRecurrence, equalsStopGradientBPTT, exactReadout)\n"),
        (["conform", "--rule", "eprop", "--alignment-threshold", "w_rec"], "biornn: error: alignment-threshold: expected TENSOR=VALUE, got 'w_rec'\n"),
        (["conform", "--rule", "eprop", "--cases", "0"], "biornn: error: cases: must lie in 1…100, got 0\n"),
        // The file arguments land in the comment.
        (["conform", "--exec", "echo '{}' #"], "biornn: error: exec: the output of 'echo '{}' #': loss: missing\n"),
        (["conform", "--exec", "exit 3"], "biornn: error: exec: 'exit 3' exited with status 3\n"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let r = try CLI.run(arguments)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr == message)
        #expect(r.stdout.isEmpty)
    }
}
