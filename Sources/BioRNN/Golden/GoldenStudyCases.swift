import Foundation

extension GoldenCases {
    // MARK: study statistics

    /// The metrics the study's tables summarise, by the name an entry stores them under.
    static let studyMetrics: [(name: String, value: @Sendable (RunRecord) -> Double?)] = [
        ("final_accuracy", { $0.finalAccuracy }), ("final_loss", { $0.finalLoss }),
        ("iterations_to_criterion", { $0.iterationsToCriterion }), ("learning_curve_area", { $0.learningCurveArea }),
        ("lambda_before_driven", { $0.lambdaBeforeDriven }), ("lambda_after_driven", { $0.lambdaAfterDriven }),
        ("initial_alignment_w_rec", { $0.initialAlignment }),
    ]

    /// The numbers a stored summary contributes, each of which a probe perturbs.
    static var recordNumbers: [WritableKeyPath<RunRecord, Double?>] { [
        \.finalLoss, \.finalAccuracy, \.iterationsToCriterion, \.learningCurveArea, \.lambdaBeforeDriven, \.lambdaBeforeAutonomous,
        \.lambdaPreflossedDriven, \.lambdaAfterDriven, \.lambdaAfterAutonomous, \.initialAlignment,
    ] }

    /// The study's statistics (the tables of `collect`/`report`) from the stored run summaries
    /// in `<corpus>/study-runs` (a sweep of 18 tiny runs, its sweep.json beside them): per
    /// metric, one entry with every group's n, mean and s.e.m. (task × init × rule × flossing ×
    /// gain, as the report's tables), one with every paired flossing effect's n, mean
    /// difference, s.e.m. and t (apart, so that an ill-conditioned t does not widen the groups'
    /// budget).
    /// Probed budget, K = 4·runs + 16: a sum, a mean, the squared deviations and their sum, a
    /// square root and two divisions.
    static func study(corpus: String) -> [GoldenCase] {
        let dir = (corpus as NSString).appendingPathComponent("study-runs")
        return studyMetrics.flatMap { metric in
            ["groups", "paired"].map { part in
                let inputs = JSONValue.object([("runs", .string("study-runs (relative to the corpus)")), ("metric", .string(metric.name)),
                                               ("layout", .string(part == "groups" ? "groups sorted by task, rule, flossing, init, gain" : "paired effects sorted by task, rule, flossing, gain"))])
                @Sendable func values(_ records: [RunRecord]) -> GoldenCase.Values {
                    let v: [(String, [Double])]
                    if part == "groups" {
                        let groups = StudyStatistics.groups(records, metric: metric.value)
                        v = [("n", groups.map { Double($0.n) }), ("mean", groups.map(\.mean)), ("sem", groups.map(\.sem))]
                    } else {
                        let paired = StudyStatistics.pairedFlossingEffect(records, metric: metric.value)
                        v = [("n", paired.map { Double($0.differences.count) }), ("mean", paired.map(\.mean)), ("sem", paired.map(\.sem)), ("t", paired.map(\.t))]
                    }
                    return v.map { ($0.0, $0.1.map { $0.isFinite ? $0 : -1 }) }   // no s.e.m. or t (one value, no spread): stored as −1
                }
                return GoldenCase(name: "study/\(metric.name)/\(part)", layer: "study", inputs: inputs, compute: { values(try Collector.read(dir)) }) { recorded in
                    let records = try Collector.read(dir)
                    let chain = 4 * records.count + 16
                    let (budget, condition) = GoldenBudgets.probed(chain: chain, steps: 1, values: recorded.flatMap(\.values)) { delta, xi in
                        let moved = records.map { r in
                            var m = r
                            for path in recordNumbers { m[keyPath: path] = r[keyPath: path].map { $0 * (1 + delta * GoldenBudgets.sign(&xi)) } }
                            return m
                        }
                        return (values(moved).flatMap(\.values), records.count * recordNumbers.count)
                    }
                    return GoldenTolerance(.rounding, budget: budget, reason: probedReason(chain: chain, condition: condition)
                                           + (condition > 1e6 ? "; a paired t of differences without spread (equal values) is ill-posed: any perturbation gives it a value" : ""))
                }
            }
        }
    }
}
