import Foundation

/// One finished run, as read back from its directory.
public struct RunRecord: Sendable, Equatable {
    public var run: String
    public var task: String, initFamily: String, rule: String, floss: String
    public var gain: Double
    public var seed: Int
    public var status: String
    public var finalLoss: Double?, finalAccuracy: Double?
    public var iterationsToCriterion: Double?, learningCurveArea: Double?
    public var lambdaBeforeDriven: Double?, lambdaBeforeAutonomous: Double?
    public var lambdaPreflossedDriven: Double?
    public var lambdaAfterDriven: Double?, lambdaAfterAutonomous: Double?
    public var initialAlignment: Double?
    /// The first few exponents (driven) before and after training.
    public var exponentsBefore: [Double] = []
    public var exponentsAfter: [Double] = []
    /// (iteration, held-out loss, accuracy, λ_max) from metrics.csv.
    public var curve: [(iteration: Int, loss: Double, accuracy: Double?, lambda: Double?)]

    public init(run: String, task: String, initFamily: String, rule: String, floss: String, gain: Double, seed: Int, status: String,
                finalLoss: Double?, finalAccuracy: Double?, iterationsToCriterion: Double?, learningCurveArea: Double?,
                lambdaBeforeDriven: Double?, lambdaBeforeAutonomous: Double?, lambdaPreflossedDriven: Double?,
                lambdaAfterDriven: Double?, lambdaAfterAutonomous: Double?, initialAlignment: Double?,
                curve: [(iteration: Int, loss: Double, accuracy: Double?, lambda: Double?)],
                exponentsBefore: [Double] = [], exponentsAfter: [Double] = []) {
        (self.run, self.task, self.initFamily, self.rule, self.floss, self.gain, self.seed, self.status) = (run, task, initFamily, rule, floss, gain, seed, status)
        (self.finalLoss, self.finalAccuracy, self.iterationsToCriterion, self.learningCurveArea) = (finalLoss, finalAccuracy, iterationsToCriterion, learningCurveArea)
        (self.lambdaBeforeDriven, self.lambdaBeforeAutonomous, self.lambdaPreflossedDriven) = (lambdaBeforeDriven, lambdaBeforeAutonomous, lambdaPreflossedDriven)
        (self.lambdaAfterDriven, self.lambdaAfterAutonomous, self.initialAlignment, self.curve) = (lambdaAfterDriven, lambdaAfterAutonomous, initialAlignment, curve)
        (self.exponentsBefore, self.exponentsAfter) = (exponentsBefore, exponentsAfter)
    }

    public static func == (a: RunRecord, b: RunRecord) -> Bool { a.csvRow == b.csvRow }

    static let columns = ["run", "task", "init", "gain", "rule", "floss", "seed", "status", "final_loss", "final_accuracy",
                          "iterations_to_criterion", "learning_curve_area", "lambda_before_driven", "lambda_before_autonomous",
                          "lambda_preflossed_driven", "lambda_after_driven", "lambda_after_autonomous", "initial_alignment_w_rec",
                          "exponents_before", "exponents_after"]

    var csvRow: String {
        func c(_ x: Double?) -> String { x.map { JSONValue.format($0) } ?? "" }
        return [run, task, initFamily, JSONValue.format(gain), rule, floss, String(seed), status, c(finalLoss), c(finalAccuracy),
                c(iterationsToCriterion), c(learningCurveArea), c(lambdaBeforeDriven), c(lambdaBeforeAutonomous),
                c(lambdaPreflossedDriven), c(lambdaAfterDriven), c(lambdaAfterAutonomous), c(initialAlignment),
                exponentsBefore.map(JSONValue.format).joined(separator: ";"), exponentsAfter.map(JSONValue.format).joined(separator: ";")].joined(separator: ",")
    }
}

/// Reads every complete run (one with summary.json) under a sweep directory — never a
/// half-written one — and writes results.csv (one row per run, sorted by run name) and
/// curves.csv (run, iteration, loss, accuracy, lambda_max).
public enum Collector {
    public static func read(_ dir: String) throws -> [RunRecord] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else { throw InputError("\(dir): cannot read directory") }
        var records: [RunRecord] = []
        for name in names.sorted() {
            let runDir = (dir as NSString).appendingPathComponent(name)
            let summaryPath = (runDir as NSString).appendingPathComponent("summary.json")
            guard fm.fileExists(atPath: summaryPath) else { continue }
            let config = try JSONValue.read(path: (runDir as NSString).appendingPathComponent("config.json"))
            let summary = try JSONValue.read(path: summaryPath)
            func num(_ v: JSONValue?) -> Double? { if case let .number(x)? = v { return x }; return nil }
            func str(_ v: JSONValue?) -> String { if case let .string(s)? = v { return s }; return "" }
            func numbers(_ v: JSONValue?) -> [Double] { if case let .array(items)? = v { return items.compactMap(num) }; return [] }
            let metrics = try String(contentsOfFile: (runDir as NSString).appendingPathComponent("metrics.csv"), encoding: .utf8)
            let curve = metrics.split(separator: "\n").dropFirst().compactMap { line -> (Int, Double, Double?, Double?)? in
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard f.count >= 5, let it = Int(f[0]), let loss = Double(f[1]) else { return nil }
                return (it, loss, Double(f[3]), Double(f[4]))
            }
            records.append(RunRecord(
                run: name, task: str(config["task"]), initFamily: str(config["init"]), rule: str(config["rule"]),
                floss: str(config["floss_name"]), gain: num(config["gain"]) ?? .nan, seed: Int(num(config["seed"]) ?? -1),
                status: str(summary["status"]), finalLoss: num(summary["final_loss"]), finalAccuracy: num(summary["final_accuracy"]),
                iterationsToCriterion: num(summary["iterations_to_criterion"]), learningCurveArea: num(summary["learning_curve_area"]),
                lambdaBeforeDriven: num(summary["lambda_max_before"]?["driven"]), lambdaBeforeAutonomous: num(summary["lambda_max_before"]?["autonomous"]),
                lambdaPreflossedDriven: num(summary["lambda_max_after_preflossing"]?["driven"]),
                lambdaAfterDriven: num(summary["lambda_max_after"]?["driven"]), lambdaAfterAutonomous: num(summary["lambda_max_after"]?["autonomous"]),
                initialAlignment: num(summary["initial_alignment_w_rec"]), curve: curve,
                exponentsBefore: numbers(summary["exponents_before"]), exponentsAfter: numbers(summary["exponents_after"])))
        }
        return records
    }

    /// The records of a study from its results.csv (and curves.csv, when present) alone, so that a
    /// report regenerates without the run directories. Errors name the file and line.
    public static func read(results path: String, curves curvesPath: String?) throws -> [RunRecord] {
        let text = try String(decoding: FileContents.read(path), as: UTF8.self)
        var lines = text.split(separator: "\n").map(String.init)
        guard lines.first == RunRecord.columns.joined(separator: ",") else {
            throw InputError("\(path): line 1: expected the header \(RunRecord.columns.joined(separator: ","))")
        }
        lines.removeFirst()
        var curves: [String: [(iteration: Int, loss: Double, accuracy: Double?, lambda: Double?)]] = [:]
        if let curvesPath, FileManager.default.fileExists(atPath: curvesPath) {
            for (i, line) in String(decoding: try FileContents.read(curvesPath), as: UTF8.self).split(separator: "\n").dropFirst().enumerated() {
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 5, let it = Int(f[1]), let loss = Double(f[2]) else { throw InputError("\(curvesPath): line \(i + 2): malformed") }
                curves[f[0], default: []].append((it, loss, Double(f[3]), Double(f[4])))
            }
        }
        return try lines.enumerated().map { i, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == RunRecord.columns.count, let gain = Double(f[3]), let seed = Int(f[6]) else {
                throw InputError("\(path): line \(i + 2): expected \(RunRecord.columns.count) fields with a numeric gain and seed")
            }
            func d(_ k: Int) -> Double? { Double(f[k]) }
            func list(_ k: Int) -> [Double] { f[k].split(separator: ";").compactMap { Double($0) } }
            return RunRecord(run: f[0], task: f[1], initFamily: f[2], rule: f[4], floss: f[5], gain: gain, seed: seed, status: f[7],
                             finalLoss: d(8), finalAccuracy: d(9), iterationsToCriterion: d(10), learningCurveArea: d(11),
                             lambdaBeforeDriven: d(12), lambdaBeforeAutonomous: d(13), lambdaPreflossedDriven: d(14),
                             lambdaAfterDriven: d(15), lambdaAfterAutonomous: d(16), initialAlignment: d(17), curve: curves[f[0]] ?? [],
                             exponentsBefore: list(18), exponentsAfter: list(19))
        }
    }

    /// Writes results.csv and curves.csv into `dir`; returns the records.
    @discardableResult
    public static func collect(_ dir: String) throws -> [RunRecord] {
        let records = try read(dir)
        try write(records, to: dir)
        return records
    }

    /// results.csv and curves.csv of these records, into `dir`.
    static func write(_ records: [RunRecord], to dir: String) throws {
        var results = RunRecord.columns.joined(separator: ",") + "\n"
        var curves = "run,iteration,loss,accuracy,lambda_max\n"
        for r in records {
            results += r.csvRow + "\n"
            for p in r.curve {
                curves += "\(r.run),\(p.iteration),\(JSONValue.format(p.loss)),\(p.accuracy.map(JSONValue.format) ?? ""),\(p.lambda.map(JSONValue.format) ?? "")\n"
            }
        }
        try AtomicFile.write(results, to: (dir as NSString).appendingPathComponent("results.csv"))
        try AtomicFile.write(curves, to: (dir as NSString).appendingPathComponent("curves.csv"))
    }
}

/// Summary statistics of a study (means ± s.e.m. over seeds, paired comparisons).
public enum StudyStatistics {
    public struct Group: Sendable {
        public let task: String, initFamily: String, rule: String, floss: String
        public let gain: Double
        public let n: Int
        public let values: [Double]
        public var mean: Double { meanAndSEM(values).mean }
        public var sem: Double { meanAndSEM(values).sem }
    }

    /// Groups the records by (task, init, rule, floss, gain) and summarises `metric` (runs where it
    /// is missing or not finite are left out), sorted by task, rule, floss, init, gain.
    public static func groups(_ records: [RunRecord], metric: (RunRecord) -> Double?) -> [Group] {
        var buckets: [String: (RunRecord, [Double])] = [:]
        for r in records {
            let key = "\(r.task)|\(r.initFamily)|\(r.rule)|\(r.floss)|\(r.gain)"
            var entry = buckets[key] ?? (r, [])
            if let v = metric(r), v.isFinite { entry.1.append(v) }
            buckets[key] = entry
        }
        return buckets.values.map { r, v in Group(task: r.task, initFamily: r.initFamily, rule: r.rule, floss: r.floss, gain: r.gain, n: v.count, values: v) }
            .sorted { ($0.task, $0.rule, $0.floss, $0.initFamily, $0.gain) < ($1.task, $1.rule, $1.floss, $1.initFamily, $1.gain) }
    }

    public struct Paired: Sendable {
        public let task: String, rule: String, initFamily: String, floss: String
        public let gain: Double
        /// metric(floss) − metric(none) for each seed present in both.
        public let differences: [Double]

        public init(task: String, rule: String, initFamily: String = "gaussian", floss: String, gain: Double, differences: [Double]) {
            (self.task, self.rule, self.initFamily, self.floss, self.gain, self.differences) = (task, rule, initFamily, floss, gain, differences)
        }
        public var mean: Double { meanAndSEM(differences).mean }
        public var sem: Double { meanAndSEM(differences).sem }
        /// Paired t statistic mean/sem (NaN for fewer than two pairs or zero spread).
        public var t: Double { sem > 0 ? mean / sem : .nan }
        /// The 95% confidence interval, effect size d_z and two-sided p of the differences.
        public var comparison: PairedComparison { PairedComparison(differences: differences) }
    }

    /// What a flossing comparison says, with Holm's adjustment over every comparison of the study
    /// (family-wise α = 0.05): "helps" or "hurts" when the adjusted p is below 0.05 (higher is
    /// better for accuracy, lower for loss), "cannot tell" otherwise.
    public enum Verdict: String, Sendable {
        case helps, hurts
        case cannotTell = "cannot tell"
    }

    /// Holm-adjusted p-values of the paired comparisons, in their order, and each one's verdict.
    public static func verdicts(_ paired: [Paired], higherIsBetter: (Paired) -> Bool) -> [(adjustedP: Double, verdict: Verdict)] {
        let adjusted = holmAdjusted(paired.map(\.comparison.p))
        return zip(paired, adjusted).map { pair, p in
            guard p < 0.05 else { return (p, .cannotTell) }
            return (p, (pair.mean > 0) == higherIsBetter(pair) ? .helps : .hurts)
        }
    }

    /// For each rule that was flossed: per (task, init, gain, flossing variant), the paired
    /// differences over seeds of `metric` against the same seed without flossing.
    public static func pairedFlossingEffect(_ records: [RunRecord], metric: (RunRecord) -> Double?) -> [Paired] {
        var base: [String: Double] = [:]
        for r in records where r.floss == "none" { if let v = metric(r) { base["\(r.task)|\(r.initFamily)|\(r.rule)|\(r.gain)|\(r.seed)"] = v } }
        var diffs: [String: (RunRecord, [Double])] = [:]
        for r in records.sorted(by: { $0.seed < $1.seed }) where r.floss != "none" {
            guard let b = base["\(r.task)|\(r.initFamily)|\(r.rule)|\(r.gain)|\(r.seed)"], let v = metric(r), v.isFinite, b.isFinite else { continue }
            let key = "\(r.task)|\(r.initFamily)|\(r.rule)|\(r.floss)|\(r.gain)"
            var entry = diffs[key] ?? (r, [])
            entry.1.append(v - b)
            diffs[key] = entry
        }
        return diffs.values.map { r, d in Paired(task: r.task, rule: r.rule, initFamily: r.initFamily, floss: r.floss, gain: r.gain, differences: d) }
            .sorted { ($0.task, $0.rule, $0.initFamily, $0.floss, $0.gain) < ($1.task, $1.rule, $1.initFamily, $1.floss, $1.gain) }
    }
}
