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

    /// For seed s = 1…seeds: the initial network of `train` with that seed (ModProp: a Dale/relu
    /// network of the same gain), one batch of `trials` trials from the seed's data stream, and
    /// the cosine of each rule's gradient with BPTT's on it.
    public static func measure(task taskName: String, gain: Double, initFamily: String = "gaussian", seeds: Int,
                               units: Int = 64, trials: Int = 32, rules: [String] = defaultRules) throws -> [AlignmentRow] {
        guard seeds >= 1 else { throw InputError("seeds: must be ≥ 1, got \(seeds)") }
        guard units >= 1 && units <= 4096 else { throw InputError("units: must lie in 1…4096, got \(units)") }
        let task = try TaskRegistry.task(named: taskName)
        var config = TrainingConfig(task: taskName, rule: "bptt", gain: gain, seed: 1, iterations: 0)
        config.units = units
        config.initFamily = initFamily
        try config.validate()
        var rows: [AlignmentRow] = []
        for name in rules {
            let needsDale = name == "modprop"
            let family = needsDale ? "dale" : initFamily
            let activation: Activation = needsDale ? .relu : .tanh
            var wRec: [Double] = [], wIn: [Double] = []
            for s in 1...seeds {
                let seed = UInt64(s)
                let model = RNN.initial(units: units, inputs: task.inputSize, outputs: task.outputSize, alpha: config.alpha(for: task),
                                        activation: activation, connectivity: try Connectivity.named(family, gain: gain), seed: seed)
                let rule = try RuleRegistry.rule(named: name, model: model, seed: seed)
                var rng = RandomStream(seed: seed, purpose: .data)
                let batch = task.sample(trials: trials, using: &rng)
                let exact = BPTT().gradient(of: model, on: batch).gradients
                let estimate = rule.gradient(of: model, on: batch).gradients
                wRec.append(cosineSimilarity(estimate.wRec.storage, exact.wRec.storage))
                wIn.append(cosineSimilarity(estimate.wIn.storage, exact.wIn.storage))
            }
            rows.append(AlignmentRow(rule: name, network: "\(family), \(activation.rawValue)", wRec: wRec, wIn: wIn))
        }
        return rows
    }

}
