import BioRNN
import Foundation
import Testing

/// The golden corpus (fixtures/golden, the GoldenValues article): the suite runs the same check
/// as `biornn golden check`, and checks that the check itself can tell rounding from change.
@Suite("Golden corpus: recorded values, recomputed, within their tolerance classes")
struct GoldenTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/golden").path

    @Test("every recorded entry is recomputed within its tolerance, and every case is recorded")
    func corpusHolds() throws {
        let entries = try GoldenCorpus.read(Self.corpus)
        let cases = GoldenCases.all(corpus: Self.corpus)
        #expect(Set(entries.map(\.name)) == Set(cases.map(\.name)), "corpus and cases differ: run `biornn golden record`")
        let drifts = try GoldenCheck.run(entries, cases: cases)
        for d in drifts where d.verdict == .beyond {
            Issue.record("\(d.name): max |Δ| \(d.maxAbsolute) beyond \(d.kind.rawValue) budget \(d.budget) \(d.problem ?? "")")
        }
        print(GoldenCheck.table(drifts))
    }

    @Test("a change of one ulp is 'within rounding' for a rounding entry and BEYOND for an exact one; a larger one is BEYOND")
    func verdicts() throws {
        let entries = try GoldenCorpus.read(Self.corpus)
        let rounding = try #require(entries.first { $0.name == "forward/gaussian-tanh" })
        let exact = try #require(entries.first { $0.name == "tasks/delayed-xor" })
        // The state of largest magnitude (the first states are h0 = 0, whose ulp is subnormal).
        let largest = rounding.values[0].values.indices.max { abs(rounding.values[0].values[$0]) < abs(rounding.values[0].values[$1]) }!
        func nudged(_ e: GoldenEntry, by steps: Double) -> GoldenEntry {
            var m = e
            m.values[0].values[largest] += steps * m.values[0].values[largest].ulp
            return m
        }
        #expect(GoldenDrift(recorded: rounding, recomputed: rounding).verdict == .identical)
        let oneULP = GoldenDrift(recorded: rounding, recomputed: nudged(rounding, by: 1))
        #expect(oneULP.verdict == .withinRounding && oneULP.maxULPs == 1)
        #expect(GoldenDrift(recorded: rounding, recomputed: nudged(rounding, by: 1e6)).verdict == .beyond)
        let task = exact.values.firstIndex { $0.key == "inputs" }!
        var moved = exact
        moved.values[task].values[0] = moved.values[task].values[0].nextUp
        #expect(GoldenDrift(recorded: exact, recomputed: moved).verdict == .beyond)
        var short = rounding
        short.values[1].values.removeLast()
        #expect(GoldenDrift(recorded: rounding, recomputed: short).problem != nil)
        // A statistical entry is held in its own standard errors: 3 s.e. is within its 7, 8 is not.
        let statistical = try #require(entries.first { $0.name == "lyapunov/long/chaotic/qr" })
        let se = try #require(statistical.values.first { $0.key == "exponents_stderr" }?.values.first)
        func shifted(by standardErrors: Double) -> GoldenEntry {
            var m = statistical
            m.values[0].values[0] += standardErrors * se
            return m
        }
        let near = GoldenDrift(recorded: statistical, recomputed: shifted(by: 3))
        #expect(near.verdict == .withinStatistics && abs(near.maxStandardErrors! - 3) < 1e-6)
        #expect(GoldenDrift(recorded: statistical, recomputed: shifted(by: 8)).verdict == .beyond)
    }

    @Test("the corpus round-trips through its JSON schema")
    func schemaRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let entries = try GoldenCorpus.read(Self.corpus)
        try GoldenCorpus.write(entries, to: dir)
        #expect(try GoldenCorpus.read(dir) == entries)
        for layer in GoldenCases.layers {
            #expect(try String(contentsOfFile: "\(dir)/\(layer).json", encoding: .utf8)
                    == String(contentsOfFile: "\(Self.corpus)/\(layer).json", encoding: .utf8), "\(layer).json")
        }
    }
}

/// The schema is usable outside Swift: fixtures/golden/reader.py, a NumPy reader written from the
/// published algorithms, recomputes the random streams and every forward pass from the inputs an
/// entry stores and holds them to the entry's own tolerance.
@Suite("Golden corpus read by another language (Python with NumPy)")
struct GoldenReaderTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let reader = root.appendingPathComponent("fixtures/golden/reader.py").path

    /// Runs a shell command, returning its status and output.
    static func shell(_ command: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// NumPy from PyPI when it is missing.
    static func ensureNumPy() throws {
        if try shell("python3 -c 'import numpy'").status != 0 {
            _ = try shell("python3 -m pip install --quiet numpy")
        }
    }

    @Test("the NumPy reader recomputes every rng, forward and gradient entry within its tolerance")
    func readerAgrees() throws {
        try Self.ensureNumPy()
        let r = try Self.shell("python3 '\(Self.reader)' '\(Self.root.appendingPathComponent("fixtures/golden").path)'")
        #expect(r.status == 0, "\(r.output)")
        let entries = try GoldenCorpus.read(Self.root.appendingPathComponent("fixtures/golden").path)
        let readable = entries.filter { ["rng", "forward", "gradients"].contains($0.layer) }.count
        #expect(r.output.hasSuffix("\(readable) passed, 0 failed\n"), "\(r.output)")
    }

    @Test("the reader fails an entry whose recorded value moved beyond its budget", arguments: [
        ("forward/gaussian-tanh", "a", 40), ("gradients/gaussian-tanh/bptt", "w_rec", 7), ("gradients/dale-relu/eprop", "w_in", 3),
        ("gradients/dale-relu/modprop", "w_out", 1),
    ])
    func readerCatches(entry name: String, key: String, index: Int) throws {
        try Self.ensureNumPy()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golden-reader-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var entries = try GoldenCorpus.read(Self.root.appendingPathComponent("fixtures/golden").path)
        let i = try #require(entries.firstIndex { $0.name == name })
        let k = try #require(entries[i].values.firstIndex { $0.key == key })
        entries[i].values[k].values[index] += 1e-9          // far beyond the entries' ~1e-12 budgets
        try GoldenCorpus.write(entries, to: dir)
        let r = try Self.shell("python3 '\(Self.reader)' '\(dir)'")
        #expect(r.status == 1 && r.output.contains("FAIL  \(name)"), "\(r.output)")
    }
}
