import Foundation

/// How one entry moved between the corpus and a recomputation.
public struct GoldenDrift: Sendable {
    public enum Verdict: String, Sendable {
        case identical = "identical"
        case withinRounding = "within rounding"
        case withinStatistics = "within statistics"
        case beyond = "BEYOND"
    }

    public let name: String
    public let layer: String
    public let kind: GoldenTolerance.Kind
    /// max |Δ| over the entry's values, the largest |Δ|/|expected| (0 where both are 0), and the
    /// largest |Δ| in units in the last place of the expected value.
    public let maxAbsolute: Double
    public let maxRelative: Double
    public let maxULPs: Double
    public let budget: Double
    /// Statistical entries: the largest |Δ| in recorded standard errors (nil for the others).
    public let maxStandardErrors: Double?
    public let verdict: Verdict
    /// What did not match in shape (a missing key, another length), if anything.
    public let problem: String?

    /// Compares a recomputed entry with the recorded one under the recorded tolerance.
    public init(recorded: GoldenEntry, recomputed: GoldenEntry) {
        name = recorded.name
        layer = recorded.layer
        kind = recorded.tolerance.kind
        budget = recorded.tolerance.budget
        var (abs_, rel, ulps) = (0.0, 0.0, 0.0)
        var problem: String?
        var bitwise = true
        for (key, expected) in recorded.values where !key.hasSuffix("_stderr") {
            guard let actual = recomputed.values.first(where: { $0.key == key })?.values else { problem = "no value \(key)"; continue }
            guard actual.count == expected.count else { problem = "\(key) has \(actual.count) values, expected \(expected.count)"; continue }
            for (x, y) in zip(actual, expected) {
                if x.bitPattern != y.bitPattern { bitwise = false }
                let d = (x.isNaN && y.isNaN) ? 0 : Swift.abs(x - y)
                abs_ = max(abs_, d.isNaN ? .infinity : d)
                if d > 0 { rel = max(rel, y == 0 ? .infinity : d / Swift.abs(y)) }
                if d > 0 { ulps = max(ulps, d / max(y.ulp, Double.leastNonzeroMagnitude)) }
            }
        }
        (maxAbsolute, maxRelative, maxULPs, self.problem) = (abs_, rel, ulps, problem)
        maxStandardErrors = kind == .statistical && problem == nil ? Self.standardErrors(recorded, recomputed) : nil
        if problem != nil {
            verdict = .beyond
        } else if bitwise {
            verdict = .identical
        } else {
            switch kind {
            case .exact: verdict = .beyond
            case .rounding: verdict = abs_ <= budget ? .withinRounding : .beyond
            case .statistical: verdict = maxStandardErrors! <= budget ? .withinStatistics : .beyond
            }
        }
    }

    /// The largest |Δ| of a statistical entry in units of its recorded standard errors
    /// ("<key>_stderr"); infinity where a value has no standard error to be measured in.
    static func standardErrors(_ recorded: GoldenEntry, _ recomputed: GoldenEntry) -> Double {
        var worst = 0.0
        for (key, expected) in recorded.values where !key.hasSuffix("_stderr") {
            guard let se = recorded.values.first(where: { $0.key == key + "_stderr" })?.values, se.count == expected.count,
                  let actual = recomputed.values.first(where: { $0.key == key })?.values else { return .infinity }
            for ((x, y), s) in zip(zip(actual, expected), se) where x != y { worst = max(worst, s > 0 ? Swift.abs(x - y) / s : .infinity) }
        }
        return worst
    }
}

/// `biornn golden check`: recompute every recorded entry and say how far each moved.
public enum GoldenCheck {
    /// The drift of every entry of `corpus` against the current code, failures first, then by
    /// layer and name. An entry the code no longer computes is BEYOND.
    public static func run(_ corpus: [GoldenEntry], cases: [GoldenCase],
                           progress: ((Int, Int) -> Void)? = nil) throws -> [GoldenDrift] {
        let provenance = GoldenProvenance.current(computedBy: "biornn golden check")
        var drifts: [GoldenDrift] = []
        for (i, recorded) in corpus.enumerated() {
            let values = try cases.first { $0.name == recorded.name }?.compute() ?? []
            let recomputed = GoldenEntry(name: recorded.name, layer: recorded.layer, inputs: recorded.inputs, values: values,
                                         tolerance: recorded.tolerance, provenance: provenance)
            drifts.append(GoldenDrift(recorded: recorded, recomputed: recomputed))
            progress?(i + 1, corpus.count)
        }
        return drifts.enumerated().sorted { a, b in
            let (fa, fb) = (a.element.verdict == .beyond, b.element.verdict == .beyond)
            return fa != fb ? fa : a.offset < b.offset
        }.map(\.element)
    }

    /// The drift table: entry, layer, class, max |Δ| (absolute, relative, ULPs), budget, verdict.
    public static func table(_ drifts: [GoldenDrift]) -> String {
        func sci(_ x: Double) -> String { x == 0 ? "0" : String(format: "%.2e", x) }
        let header = ["entry", "layer", "class", "max |Δ|", "rel", "ulps", "budget", "verdict"]
        let rows = drifts.map { d in
            [d.name, d.layer, d.kind.rawValue, sci(d.maxAbsolute), sci(d.maxRelative), d.maxULPs == 0 ? "0" : String(format: "%.1f", d.maxULPs),
             d.kind == .exact ? "bitwise" : d.kind == .statistical ? "\(JSONValue.format(d.budget)) s.e." : sci(d.budget),
             d.verdict.rawValue + (d.maxStandardErrors.map { d.verdict == .identical ? "" : String(format: " (%.2f s.e.)", $0) } ?? "")
                + (d.problem.map { " (\($0))" } ?? "")]
        }
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, text in c == cells.count - 1 ? text : text.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        let counts = Dictionary(grouping: drifts, by: \.verdict).mapValues(\.count)
        let summary = [GoldenDrift.Verdict.identical, .withinRounding, .withinStatistics, .beyond]
            .map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n\(drifts.count) entries: \(summary)"
    }

    /// The same as JSON, for programs.
    public static func json(_ drifts: [GoldenDrift]) -> JSONValue {
        func num(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }   // JSON has no infinity
        return .array(drifts.map { d in
            .object([("entry", .string(d.name)), ("layer", .string(d.layer)), ("class", .string(d.kind.rawValue)),
                     ("max_abs", num(d.maxAbsolute)), ("max_rel", num(d.maxRelative)), ("max_ulps", num(d.maxULPs)),
                     ("budget", num(d.budget)), ("max_standard_errors", d.maxStandardErrors.map(num) ?? .null), ("verdict", .string(d.verdict.rawValue)), ("problem", d.problem.map { .string($0) } ?? .null)])
        })
    }
}
