import Foundation

/// How well a rule's gradient points where BPTT's does, over seeds: the cosine
/// ⟨g_rule, g_BPTT⟩ / (‖g_rule‖‖g_BPTT‖) for W_rec and W_in on the initial network of each seed.
public struct AlignmentRow: Sendable {
    public let rule: String
    /// Which network the rule was measured on ("gaussian, tanh" or, for ModProp, "dale, relu").
    public let network: String
    public let wRec: [Double]
    public let wIn: [Double]
}

public enum GradientAlignment {
    public static let defaultRules = ["eprop", "eprop-random", "rflo", "modprop", "tbptt:5"]

    /// The most seeds one measurement may ask for.
    public static let maxSeeds = 10_000

    /// For seed s = 1…seeds: the initial network of `train` with that seed (on the family the
    /// rule requires: a Dale/relu network of the same gain for ModProp), one batch of `trials`
    /// trials from the seed's data stream, and the cosine of each rule's gradient with BPTT's on
    /// it. `progress(done, total)` counts finished (rule, seed) pairs; it is first called with
    /// done = 0 once every input has been checked, before any work.
    public static func measure(task taskName: String, gain: Double, initFamily: String = "gaussian", seeds: Int,
                               units: Int = 64, trials: Int = 32, rules: [String] = defaultRules,
                               progress: ((Int, Int) -> Void)? = nil) throws -> [AlignmentRow] {
        guard seeds >= 1 && seeds <= maxSeeds else { throw InputError("seeds: must lie in 1…\(maxSeeds), got \(seeds)") }
        guard units >= 1 && units <= 4096 else { throw InputError(.units, "must lie in 1…4096, got \(units)") }
        let task = try TaskRegistry.task(named: taskName)
        var config = TrainingConfig(task: taskName, rule: "bptt", gain: gain, seed: 1, iterations: 0)
        config.units = units
        config.initFamily = initFamily
        try config.validate()
        let networks = try rules.map { name in try RuleRegistry.requirement(of: name).network(initFamily: initFamily, activation: .tanh) }
        for (name, network) in zip(rules, networks) {
            try RuleRegistry.check(name, units: units, activation: network.activation, dale: network.initFamily == "dale")
        }
        progress?(0, rules.count * seeds)
        var rows: [AlignmentRow] = []
        for (index, (name, network)) in zip(rules, networks).enumerated() {
            var wRec: [Double] = [], wIn: [Double] = []
            for s in 1...seeds {
                let seed = UInt64(s)
                let model = RNN.initial(units: units, inputs: task.inputSize, outputs: task.outputSize, alpha: config.alpha(for: task),
                                        activation: network.activation, connectivity: try Connectivity.named(network.initFamily, gain: gain),
                                        seed: seed)
                let rule = try RuleRegistry.rule(named: name, model: model, seed: seed)
                var rng = RandomStream(seed: seed, purpose: .data)
                let batch = task.sample(trials: trials, using: &rng)
                let exact = BPTT().gradient(of: model, on: batch).gradients
                let estimate = rule.gradient(of: model, on: batch).gradients
                wRec.append(cosineSimilarity(estimate.wRec.storage, exact.wRec.storage))
                wIn.append(cosineSimilarity(estimate.wIn.storage, exact.wIn.storage))
                progress?(index * seeds + s, rules.count * seeds)
            }
            rows.append(AlignmentRow(rule: name, network: "\(network.initFamily), \(network.activation.rawValue)", wRec: wRec, wIn: wIn))
        }
        return rows
    }
}
