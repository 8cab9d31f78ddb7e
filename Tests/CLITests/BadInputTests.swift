import BioRNN
import Foundation
import Testing

/// Bad input, fuzzed (the CommandLine article: one line naming the field or file, exit code 2, no output).
///
/// In process, the parsing and validation layer every command goes through gets well over a
/// thousand malformed inputs, each made by one mutation of a valid document that is known to
/// make it invalid — truncation, a value of the wrong kind, a wrong shape, a value out of range,
/// absurd sizes — plus random byte noise, where only "no crash, and either valid or one clean
/// line" is asserted. Every refusal must be an `InputError` on one line that starts with the
/// file's name. The mutations come from the project's seeded generator, so a failure names its
/// case and replays exactly. End to end, a handful go through the executable.
@Suite("Bad input: fuzzed files, specifications and options; a few end to end")
struct BadInputTests {
    /// A document kind the CLI reads, valid, and how the CLI parses it.
    struct Document {
        let source: String
        let valid: JSONValue
        let parse: (JSONValue, String) throws -> Void
        /// key → replacement values that make the document invalid.
        let invalidValues: [String: [JSONValue]]
        /// Shape breakers: each returns an invalid variant (or nil when it does not apply).
        let shapeBreakers: [(JSONValue, inout RandomStream) -> JSONValue?]
    }

    static let notANumber: [JSONValue] = [.string("1"), .bool(true), .array([]), .object([]), .array([.string("x")])]
    static let notAMatrix: [JSONValue] = [.number(1), .string("w"), .object([]), .array([]), .array([.array([])]),
                                          .array([.string("row")]), .array([.array([.string("1")])]), .array([.array([.null])])]
    static let notAVector: [JSONValue] = [.number(1), .string("v"), .object([]), .array([.string("1")]), .array([.null]), .array([.array([])])]

    static func documents() throws -> [Document] {
        let model = RNN.initial(units: 5, inputs: 2, outputs: 3, alpha: 0.2, activation: .tanh,
                                connectivity: try Connectivity.named("dale", gain: 1.5), seed: 3)
        var rng = RandomStream(seed: 11, purpose: .data)
        let labelled = try TaskRegistry.task(named: "delayed-xor").sample(trials: 3, using: &rng)
        let regression = try TaskRegistry.task(named: "pattern-generation").sample(trials: 1, using: &rng)
        let sweep = try JSONValue.parse(Data("""
            {"tasks": ["delayed-xor"], "inits": ["gaussian"], "gains": [1, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
             "flossing": {"none": null, "local": "mode=local,pre=3"}, "floss_rules": ["eprop"],
             "iterations": 5, "units": 8, "batch_size": 4, "lr": 0.01, "log_every": 2, "eval_trials": 16}
            """.utf8), source: "sweep.json")
        let modelValues: [String: [JSONValue]] = [
            "alpha": notANumber + [.null, .number(0), .number(-0.5), .number(1.0000001), .number(2)],
            "activation": [.null, .number(1), .string("sigmoid"), .string(""), .array([])],
            "w_in": notAMatrix + [.null], "w_rec": notAMatrix + [.null], "w_out": notAMatrix + [.null],
            "b_rec": notAVector + [.array([.number(1)])], "b_out": notAVector, "h0": notAVector,
            "noise_sd": notANumber + [.number(-1)],
            "dale_signs": notAVector + [.array([.number(1), .number(-1), .number(1), .number(0.5), .number(1)])],
        ]
        let batchValues: [String: [JSONValue]] = [
            "inputs": notAMatrix + [.null, .array([.array([])])],
            "labels": notAVector + [.null, .number(0)],
            "mask": notAVector + [.number(0)],
        ]
        let sweepValues: [String: [JSONValue]] = [
            "tasks": [.null, .array([]), .string("delayed-xor"), .array([.string("nope")]), .array([.number(1)])],
            "inits": [.array([]), .array([.string("weird")]), .number(1)],
            "gains": [.null, .array([]), .array([.number(-1)]), .array([.string("1")]), .number(1)],
            "rules": [.null, .array([]), .array([.string("nope")]), .array([.string("tbptt:0")]), .array([.string("tbptt:x")]),
                      .array([.string("modprop"), .number(1)])],
            "seeds": [.null, .array([]), .array([.number(-1)]), .array([.number(1.5)]), .array([.number(1e300)]), .string("1")],
            "flossing": [.array([]), .number(1), .object([]), .object([("x", .string("mode=slow"))]), .object([("x", .number(1))]),
                         .object([("x", .string("k=0"))]), .object([("x", .string("k=9"))])],
            "iterations": notANumber + [.number(0), .number(-3), .number(2.5), .number(1e12)],
            "units": notANumber + [.number(0), .number(5000), .number(1e9)],
            "batch_size": notANumber + [.number(0), .number(1e7)],
            "eval_trials": notANumber + [.number(0), .number(1e7)],
            "log_every": notANumber + [.number(0)],
            "lr": notANumber + [.number(0), .number(-1)],
        ]
        return [
            Document(source: "model.json", valid: model.json, parse: { _ = try RNN(json: $0, source: $1) },
                     invalidValues: modelValues, shapeBreakers: matrixBreakers(["w_in", "w_rec", "w_out"]) + vectorBreakers(["b_rec", "h0", "dale_signs", "b_out"])),
            Document(source: "labels.json", valid: labelled.json, parse: { _ = try Batch(json: $0, source: $1) },
                     invalidValues: batchValues, shapeBreakers: batchBreakers(["inputs", "labels", "mask"])),
            Document(source: "targets.json", valid: regression.json, parse: { _ = try Batch(json: $0, source: $1) },
                     invalidValues: ["inputs": batchValues["inputs"]!, "targets": notAMatrix + [.null, .array([.array([.array([])])])]],
                     shapeBreakers: batchBreakers(["inputs", "targets"])),
            Document(source: "sweep.json", valid: sweep, parse: { _ = try SweepConfig(json: $0, source: $1) },
                     invalidValues: sweepValues, shapeBreakers: []),
        ]
    }

    /// Replace one key's value.
    static func replacing(_ key: String, with value: JSONValue, in doc: JSONValue) -> JSONValue {
        guard case var .object(pairs) = doc else { return doc }
        if let i = pairs.firstIndex(where: { $0.0 == key }) { pairs[i].1 = value } else { pairs.append((key, value)) }
        return .object(pairs)
    }

    /// Break a matrix: a ragged row, a missing row, a missing column.
    static func matrixBreakers(_ keys: [String]) -> [(JSONValue, inout RandomStream) -> JSONValue?] {
        keys.map { key in
            { doc, rng in
                guard case var .array(rows)? = doc[key], !rows.isEmpty else { return nil }
                switch rng.index(below: 3) {
                case 0:   // ragged: one row loses an entry (or gains one)
                    let i = rng.index(below: rows.count)
                    guard case var .array(row) = rows[i] else { return nil }
                    if row.count > 1 && rng.index(below: 2) == 0 { row.removeLast() } else { row.append(.number(0.5)) }
                    if rows.count == 1 { return nil }   // a single row cannot be ragged
                    rows[i] = .array(row)
                case 1:   // one row too few (every matrix's row count is fixed by N or O)
                    rows.removeLast()
                    if rows.isEmpty { return .object([]) }
                default:  // one column too many everywhere (w_in's width is free: not for w_in)
                    if key == "w_in" { return nil }
                    rows = rows.map { if case let .array(r) = $0 { return .array(r + [.number(0)]) }; return $0 }
                }
                return replacing(key, with: .array(rows), in: doc)
            }
        }
    }

    static func vectorBreakers(_ keys: [String]) -> [(JSONValue, inout RandomStream) -> JSONValue?] {
        keys.map { key in
            { doc, rng in
                guard case var .array(items)? = doc[key] else { return nil }
                if rng.index(below: 2) == 0 && !items.isEmpty { items.removeLast() } else { items.append(.number(1)) }
                return replacing(key, with: .array(items), in: doc)
            }
        }
    }

    /// Break a [T][B](…) block: a step too few (labels, mask, targets), a trial too few at one step, an entry too few.
    static func batchBreakers(_ keys: [String]) -> [(JSONValue, inout RandomStream) -> JSONValue?] {
        keys.map { key in
            { doc, rng in
                guard case var .array(steps)? = doc[key], steps.count > 1 else { return nil }
                let t = rng.index(below: steps.count)
                guard case var .array(trials) = steps[t] else { return nil }
                switch rng.index(below: 3) {
                case 0:
                    if key == "inputs" { return nil }   // inputs set T
                    steps.removeLast()
                case 1:
                    guard trials.count > 1 || t > 0 else { return nil }
                    trials.removeLast()
                    steps[t] = .array(trials)
                default:
                    let b = rng.index(below: trials.count)
                    guard case var .array(entries) = trials[b] else { return nil }   // labels and mask: numbers
                    guard !entries.isEmpty, steps.count * trials.count > 1 else { return nil }
                    entries.removeLast()
                    trials[b] = .array(entries)
                    steps[t] = .array(trials)
                }
                return replacing(key, with: .array(steps), in: doc)
            }
        }
    }

    /// A refusal as the CLI needs it: an InputError on one line that starts with the file's name.
    static func expectRefused(_ source: String, _ what: String, _ body: () throws -> Void) -> Bool {
        do {
            try body()
            Issue.record("accepted: \(what)")
            return false
        } catch let e as InputError {
            #expect(e.message.hasPrefix("\(source): ") && !e.message.contains("\n") && e.message.count > source.count + 2, "\(what): \(e.message)")
            return true
        } catch {
            Issue.record("\(what): not an InputError: \(error)")
            return false
        }
    }

    @Test("≥ 1000 malformed model, batch and sweep files are refused with one line naming the file; byte noise never crashes")
    func fuzzedDocuments() throws {
        var rng = RandomStream(seed: 2026, name: "bad-input-fuzz")
        var refused = 0, noise = 0
        for doc in try Self.documents() {
            let text = doc.valid.serialized
            let bytes = Array(text.utf8)
            try doc.parse(doc.valid, doc.source)   // the unbroken document is valid
            for caseIndex in 0..<400 {
                let what = "\(doc.source) case \(caseIndex)"
                switch caseIndex % 5 {
                case 0:   // truncated: any proper prefix of an object is not JSON
                    let cut = 1 + rng.index(below: bytes.count - 1)
                    if Self.expectRefused(doc.source, "\(what) (cut at \(cut))", {
                        try doc.parse(try JSONValue.parse(Data(bytes[..<cut]), source: doc.source), doc.source)
                    }) { refused += 1 }
                case 1, 2:   // a value of the wrong kind or out of range
                    let keys = doc.invalidValues.keys.sorted()
                    let key = keys[rng.index(below: keys.count)]
                    let values = doc.invalidValues[key]!
                    let value = values[rng.index(below: values.count)]
                    let broken = Self.replacing(key, with: value, in: doc.valid)
                    if Self.expectRefused(doc.source, "\(what) (\(key) = \(value.serialized))", { try doc.parse(broken, doc.source) }) { refused += 1 }
                case 3:   // a wrong shape
                    guard !doc.shapeBreakers.isEmpty else { fallthrough }
                    let breaker = doc.shapeBreakers[rng.index(below: doc.shapeBreakers.count)]
                    guard let broken = breaker(doc.valid, &rng) else { continue }
                    if Self.expectRefused(doc.source, "\(what) (shape)", { try doc.parse(broken, doc.source) }) { refused += 1 }
                default:  // byte noise: a few random bytes overwritten — valid or refused, never a crash
                    var noisy = bytes
                    let alphabet = Array("{}[]:,\"-+.eE0123456789 \\\ntnf\u{7f}".utf8)
                    for _ in 0..<(1 + rng.index(below: 4)) { noisy[rng.index(below: noisy.count)] = alphabet[rng.index(below: alphabet.count)] }
                    do {
                        try doc.parse(try JSONValue.parse(Data(noisy), source: doc.source), doc.source)
                    } catch let e as InputError {
                        #expect(e.message.hasPrefix("\(doc.source): ") && !e.message.contains("\n"), "\(what): \(e.message)")
                    }
                    noise += 1
                }
            }
        }
        // Absurd documents: very deep nesting, a number beyond Double, an empty file, not an object.
        for (name, text) in [("deep", String(repeating: "[", count: 100_000)), ("huge number", "{\"alpha\": 1e99999}"),
                             ("empty", ""), ("array", "[1, 2]"), ("nul bytes", "{\"alpha\": \u{0}}")] {
            if Self.expectRefused("model.json", name, { _ = try RNN(json: try JSONValue.parse(Data(text.utf8), source: "model.json"), source: "model.json") }) {
                refused += 1
            }
        }
        print("fuzzed documents: \(refused) refused as they must be, \(noise) byte-noise cases without a crash")
        #expect(refused >= 1000)
    }

    @Test("malformed flossing specifications and training options are refused with one line naming the field")
    func fuzzedSpecificationsAndOptions() throws {
        var rng = RandomStream(seed: 2026, name: "bad-spec-fuzz")
        // Specifications: one bad item among good ones (which never set a key a bad item sets, so
        // nothing bad is overridden later in the list).
        let good = ["mode=local", "mode=full", "transient=10", "target=0.5"]
        let bad = ["k=0", "k=-1", "k=x", "window=0", "lr=0", "lr=-1", "lr=nan", "lr=inf", "mode=slow", "mode=", "speed=3", "k",
                   "=1", "every=5", "count=2", "pre=1.5", "w_in=yes", "k=1\nwindow=2", "window=99999999999999999999"]
        var refused = 0
        for i in 0..<400 {
            var items = (0..<rng.index(below: 4)).map { _ in good[rng.index(below: good.count)] }
            let item = bad[rng.index(below: bad.count)]
            items.insert(item, at: rng.index(below: items.count + 1))
            let spec = items.joined(separator: ",")
            do {
                _ = try FlossingConfig(spec: spec)
                Issue.record("spec \(i) accepted: \(spec)")
            } catch let e as InputError {
                #expect(e.message.hasPrefix("floss: ") && !e.message.contains("\n"), "spec \(i) '\(spec)': \(e.message)")
                refused += 1
            }
        }
        // Training options: one field out of range at a time.
        typealias Breaker = (inout TrainingConfig) -> Void
        let breakers: [(String, Breaker)] = [
            ("units", { $0.units = 0 }), ("units", { $0.units = 5000 }), ("units", { $0.units = -3 }),
            ("tau-ms", { $0.tauMs = 0 }), ("tau-ms", { $0.tauMs = .nan }), ("tau-ms", { $0.tauMs = -.infinity }),
            ("trials", { $0.batchSize = 0 }), ("trials", { $0.batchSize = 10_000_000 }),
            ("eval-trials", { $0.evalTrials = 0 }), ("eval-trials", { $0.evalTrials = 1 << 40 }),
            ("log-every", { $0.logEvery = 0 }), ("iterations", { $0.iterations = -1 }),
            ("lr", { $0.optimizer.learningRate = 0 }), ("lr", { $0.optimizer.learningRate = .nan }),
            ("lr", { $0.optimizer.learningRate = .infinity }), ("clip", { $0.optimizer.clipNorm = -1 }),
            ("clip", { $0.optimizer.clipNorm = .nan }), ("gain", { $0.gain = -1 }), ("gain", { $0.gain = .nan }),
            ("gain", { $0.gain = .infinity }), ("task", { $0.task = "nope" }), ("init", { $0.initFamily = "weird" }),
            ("rule", { $0.rule = "nope" }), ("rule", { $0.rule = "tbptt:0" }), ("rule", { $0.rule = "rtrl" }),
            ("rule", { $0.rule = "modprop" }), ("floss", { $0.floss = try? FlossingConfig(spec: "k=65") }),
        ]
        for i in 0..<300 {
            let (field, breaker) = breakers[rng.index(below: breakers.count)]
            var c = TrainingConfig(task: ["perceptual-decision", "delayed-xor"][rng.index(below: 2)], rule: "bptt",
                                   gain: rng.uniform(0.5, 3), seed: UInt64(i), iterations: 1 + rng.index(below: 100))
            breaker(&c)
            do {
                try c.validate()
                Issue.record("options \(i) accepted: \(field)")
            } catch let e as InputError {
                #expect(e.message.hasPrefix("\(field): ") && !e.message.contains("\n"), "options \(i): \(e.message)")
                refused += 1
            }
        }
        print("fuzzed specifications and options: \(refused) refused")
        #expect(refused == 700)
    }

    @Test("end to end: malformed files and options exit 2 with one line naming the file or field, and create or change nothing")
    func endToEnd() throws {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 4, inputs: 1, outputs: 2, alpha: 0.5, activation: .tanh,
                                connectivity: .gaussian(gain: 1), seed: 1)
        var rng = RandomStream(seed: 1, purpose: .data)
        let batch = try TaskRegistry.task(named: "delayed-xor").sample(trials: 2, using: &rng)
        try model.json.serialized.write(toFile: "\(dir)/model.json", atomically: true, encoding: .utf8)
        try batch.json.serialized.write(toFile: "\(dir)/batch.json", atomically: true, encoding: .utf8)
        let text = model.json.serialized
        try String(text.prefix(text.count / 2)).write(toFile: "\(dir)/truncated.json", atomically: true, encoding: .utf8)
        try text.replacingOccurrences(of: "\"alpha\":0.5", with: "\"alpha\":1.5").write(toFile: "\(dir)/alpha.json", atomically: true, encoding: .utf8)
        try #"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "units": 1e9}"#
            .write(toFile: "\(dir)/sweep.json", atomically: true, encoding: .utf8)
        // An existing output that a failed command must leave alone.
        try FileManager.default.createDirectory(atPath: "\(dir)/existing", withIntermediateDirectories: true)
        try "keep".write(toFile: "\(dir)/existing/summary.json", atomically: true, encoding: .utf8)
        let before = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()

        let cases: [([String], String)] = [
            (["gradient", "--model", "\(dir)/truncated.json", "--batch", "\(dir)/batch.json", "--rule", "bptt"], "\(dir)/truncated.json: not valid JSON"),
            (["lyapunov", "--model", "\(dir)/alpha.json"], "\(dir)/alpha.json: alpha: must lie in (0, 1], got 1.5"),
            (["lyapunov", "--model", "\(dir)/model.json", "--k", "5"], "k: must lie in 1…4 (the number of units), got 5"),
            (["gradient", "--model", "\(dir)/missing.json", "--batch", "\(dir)/batch.json", "--rule", "bptt"], "\(dir)/missing.json: no such file"),
            (["floss", "--model", "\(dir)/model.json", "--mode", "full", "--iterations", "1", "--k", "9", "--out", "\(dir)/flossed.json"], "k: must lie in 1…4 (the number of units), got 9"),
            (["sweep", "\(dir)/sweep.json", "--out", "\(dir)/sweep-out"], "\(dir)/sweep.json: units: must be an integer ≥ 1"),
            (["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "1",
              "--trials", "100000000", "--out", "\(dir)/existing"], "trials: 100000000 trials"),
            (["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "nan", "--seed", "1", "--iterations", "1", "--out", "\(dir)/t"], "gain: must be a finite number ≥ 0, got nan"),
            (["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "1",
              "--floss", "mode=full,k=1\nwindow=0", "--out", "\(dir)/t"], "floss: k must be an integer ≥ 0, got '1\\nwindow=0'"),
        ]
        for (arguments, start) in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 2, "\(arguments): status \(r.status)")
            #expect(r.stdout.isEmpty && r.stderr.hasPrefix("biornn: error: \(start)") && r.stderr.filter { $0 == "\n" }.count == 1,
                    "\(arguments): \(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == before, "a failed command created a file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/existing") == ["summary.json"])
        #expect(try String(contentsOfFile: "\(dir)/existing/summary.json", encoding: .utf8) == "keep")
    }
}
