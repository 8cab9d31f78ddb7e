/// `--rule` names to learning rules. Random feedback matrices (e-prop-random, RFLO) are drawn from
/// `RandomStream(seed: seed, purpose: .feedback)`, so the same seed gives the same matrix.
public enum RuleRegistry {
    public static let names = ["bptt", "rtrl", "tbptt:K", "eprop", "eprop-random", "rflo", "modprop"]

    public static func rule(named name: String, model: RNN, seed: UInt64) throws -> any LearningRule {
        switch name {
        case "bptt": return BPTT()
        case "rtrl":
            guard model.units <= RTRL.maxUnits else {
                throw InputError("rule: rtrl is limited to \(RTRL.maxUnits) units (its cost grows as N⁴ per step); the model has \(model.units)")
            }
            return RTRL()
        case "eprop": return EProp()
        case "eprop-random":
            return EProp(feedback: .fixed(EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: seed)))
        case "rflo": return RFLO(feedback: EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: seed))
        case "modprop": return try ModProp(model: model)
        default:
            if name.hasPrefix("tbptt:") {
                guard let k = Int(name.dropFirst("tbptt:".count)), k >= 1 else {
                    throw InputError("rule: '\(name)': the truncation K of tbptt:K must be an integer ≥ 1")
                }
                return BPTT(truncation: k)
            }
            throw InputError("rule: unknown rule '\(name)' (known: \(names.joined(separator: ", ")))")
        }
    }
}
