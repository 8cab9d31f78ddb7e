/// `--rule` names to learning rules. Random feedback matrices (e-prop-random, RFLO) are drawn from
/// `RandomStream(seed: seed, purpose: .feedback)`, so the same seed gives the same matrix.
public enum RuleRegistry {
    public static let names = ["bptt", "rtrl", "tbptt:K", "eprop", "eprop-random", "rflo", "modprop"]

    public static func rule(named name: String, model: RNN, seed: UInt64) throws -> any LearningRule {
        switch name {
        case "bptt": return BPTT()
        case "rtrl":
            try check(name, units: model.units, activation: model.activation, dale: model.daleSigns != nil)
            return RTRL()
        case "eprop": return EProp()
        case "eprop-random":
            return EProp(feedback: .fixed(EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: seed)))
        case "rflo": return RFLO(feedback: EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: seed))
        case "modprop": return try ModProp(model: model)
        default: return BPTT(truncation: try truncation(name))
        }
    }

    /// Checks that `name` is a rule that can train a network of this size and kind, before any
    /// network exists (validation ahead of work).
    public static func check(_ name: String, units: Int, activation: Activation, dale: Bool) throws {
        switch name {
        case "bptt", "eprop", "eprop-random", "rflo": return
        case "rtrl":
            guard units <= RTRL.maxUnits else {
                throw InputError("rule: rtrl is limited to \(RTRL.maxUnits) units (its cost grows as N⁴ per step); the model has \(units)")
            }
        case "modprop": guard dale && activation == .relu else { throw ModProp.requirement }
        default: _ = try truncation(name)
        }
    }

    /// K of "tbptt:K".
    static func truncation(_ name: String) throws -> Int {
        guard name.hasPrefix("tbptt:") else { throw InputError("rule: unknown rule '\(name)' (known: \(names.joined(separator: ", ")))") }
        guard let k = Int(name.dropFirst("tbptt:".count)), k >= 1 else {
            throw InputError("rule: '\(name)': the truncation K of tbptt:K must be an integer ≥ 1")
        }
        return k
    }
}
