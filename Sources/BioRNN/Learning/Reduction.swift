/// A special case of a rule in which it must equal another rule exactly (<doc:ValidatingALearningRule>):
/// a transform of the rule's feedback, hyper-parameters or the network, and the rule the
/// transformed one must then equal. An approximate rule has no exact relation in general, but
/// usually has one in a special case — feedback alignment with B = W_outᵀ is BPTT, ModProp with
/// the modulation off is e-prop — and the special case runs the same code as the general one, so
/// a bug in the new part shows up there. A rule declares its reductions next to its code
/// (``LearningRule/reductions``); the conformance kit runs each on every random network.
public struct Reduction: Sendable {
    /// The special case and what it equals, both measured on `model`.
    public struct Instance {
        /// The rule in the special case.
        public var rule: any LearningRule
        /// The network both rules are evaluated on (the given one, or a transform of it).
        public var model: RNN
        /// The rule the special case must equal.
        public var reference: any LearningRule

        public init(rule: any LearningRule, model: RNN, reference: any LearningRule) {
            self.rule = rule
            self.model = model
            self.reference = reference
        }
    }

    /// The special case, e.g. "B = W_outᵀ".
    public let condition: String
    /// What the rule equals in it, e.g. "BPTT".
    public let reference: String
    /// The special case for a network and batch.
    public let instance: @Sendable (_ model: RNN, _ batch: Batch) throws -> Instance

    public init(_ condition: String, equals reference: String,
                instance: @escaping @Sendable (_ model: RNN, _ batch: Batch) throws -> Instance) {
        self.condition = condition
        self.reference = reference
        self.instance = instance
    }

    /// "with B = W_outᵀ it equals BPTT"
    public var name: String { "with \(condition) it equals \(reference)" }
}
