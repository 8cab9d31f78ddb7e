/// `--rule` names to learning rules. Random feedback matrices (e-prop-random, RFLO) are drawn from
/// `RandomStream(seed: seed, purpose: .feedback)`, so the same seed gives the same matrix.
public enum RuleRegistry {
    /// One named rule: what it requires of a network (declared by the rule's type) and how it is
    /// built for a network.
    struct Entry: Sendable {
        let name: String
        let requirement: NetworkRequirement
        let make: @Sendable (_ model: RNN, _ seed: UInt64) throws -> any LearningRule
    }

    static let entries: [Entry] = [
        Entry(name: "bptt", requirement: BPTT.requirement) { _, _ in BPTT() },
        Entry(name: "rtrl", requirement: RTRL.requirement) { _, _ in RTRL() },
        Entry(name: "eprop", requirement: EProp.requirement) { _, _ in EProp() },
        Entry(name: "eprop-random", requirement: EProp.requirement) { model, seed in
            EProp(feedback: .fixed(EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: seed)))
        },
        Entry(name: "rflo", requirement: RFLO.requirement) { model, seed in
            RFLO(feedback: EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: seed))
        },
        Entry(name: "modprop", requirement: ModProp.requirement) { model, _ in try ModProp(model: model) },
    ]

    /// The names `--rule` accepts; "tbptt:K" stands for truncated BPTT with any K ≥ 1, "modprop:μ"
    /// for ModProp with constant derivative μ (plain "modprop": μ = 0.5).
    public static let names = ["bptt", "rtrl", "tbptt:K", "eprop", "eprop-random", "rflo", "modprop", "modprop:μ"]

    public static func rule(named name: String, model: RNN, seed: UInt64) throws -> any LearningRule {
        try check(name, units: model.units, activation: model.activation, dale: model.daleSigns != nil)
        if let entry = entries.first(where: { $0.name == name }) { return try entry.make(model, seed) }
        if name.hasPrefix("modprop:") { return try ModProp(model: model, mu: try modulationDerivative(name)) }
        return TruncatedBPTT(truncation: try truncation(name))
    }

    /// What the named rule needs of a network.
    public static func requirement(of name: String) throws -> NetworkRequirement {
        if let entry = entries.first(where: { $0.name == name }) { return entry.requirement }
        if name.hasPrefix("modprop:") { _ = try modulationDerivative(name); return ModProp.requirement }
        _ = try truncation(name)
        return TruncatedBPTT.requirement
    }

    /// μ of "modprop:μ".
    static func modulationDerivative(_ name: String) throws -> Double {
        guard let mu = Double(name.dropFirst("modprop:".count)), mu.isFinite, mu >= 0 else {
            throw InputError(.rule, "'\(name)': the μ of modprop:μ must be a number ≥ 0")
        }
        return mu
    }

    /// Checks that `name` is a rule that can train a network of this size and kind, before any
    /// network exists (validation ahead of work).
    public static func check(_ name: String, units: Int, activation: Activation, dale: Bool) throws {
        try requirement(of: name).check(rule: name, units: units, activation: activation, dale: dale)
    }

    /// K of "tbptt:K".
    static func truncation(_ name: String) throws -> Int {
        guard name.hasPrefix("tbptt:") else {
            throw InputError(.rule, unknownName(name, kind: "rule", known: names))
        }
        guard let k = Int(name.dropFirst("tbptt:".count)), k >= 1 else {
            throw InputError(.rule, "'\(name)': the truncation K of tbptt:K must be an integer ≥ 1")
        }
        return k
    }
}
