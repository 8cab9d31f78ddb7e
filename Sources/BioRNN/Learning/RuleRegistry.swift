/// `--rule` names to learning rules. Random feedback matrices (where a rule has them) are drawn
/// from `RandomStream(seed: seed, purpose: .feedback)`.
public enum RuleRegistry {
    public static let names = ["bptt", "tbptt:K"]

    public static func rule(named name: String, model: RNN, seed: UInt64) throws -> any LearningRule {
        if name == "bptt" { return BPTT() }
        if name.hasPrefix("tbptt:") {
            guard let k = Int(name.dropFirst("tbptt:".count)), k >= 1 else {
                throw InputError("rule: '\(name)': the truncation K of tbptt:K must be an integer ≥ 1")
            }
            return BPTT(truncation: k)
        }
        throw InputError("rule: unknown rule '\(name)' (known: \(names.joined(separator: ", ")))")
    }
}
