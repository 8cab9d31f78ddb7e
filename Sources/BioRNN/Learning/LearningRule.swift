/// A loss and a gradient estimate for every parameter (frozen ones included; training ignores them).
public struct LossAndGradient: Sendable {
    public var loss: Double
    public var gradients: Parameters

    public init(loss: Double, gradients: Parameters) {
        self.loss = loss
        self.gradients = gradients
    }
}

/// An exact relationship a rule claims (design §3's table); the conformance kit checks each
/// claim a rule declares.
public enum ExactRelation: String, Sendable, Hashable, CaseIterable {
    /// The gradient equals exact BPTT (RTRL, BPTT itself).
    case equalsBPTT
    /// With W_rec = 0 the gradient equals exact BPTT (e-prop, ModProp).
    case equalsBPTTWithoutRecurrence
    /// The gradient equals BPTT with the recurrent path W_rec·φ(a_{t−1}) cut (symmetric e-prop).
    case equalsStopGradientBPTT
    /// The readout gradient (W_out, b_out) equals BPTT's (every rule here).
    case exactReadout
}

/// What every learning rule does, exact or local (design §3): a batch in, a gradient estimate for
/// each parameter out. `train`, `gradient` and the conformance kit use rules only through this.
public protocol LearningRule: Sendable {
    /// The `--rule` name, e.g. "bptt", "tbptt:5", "eprop".
    var name: String { get }
    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient
    /// The exact relationships this rule claims.
    var exactRelations: Set<ExactRelation> { get }
    /// The same rule for a network whose units are renumbered, unit p becoming permutation[p]
    /// (rules holding unit-indexed state, such as a feedback matrix, renumber it too).
    func permutingUnits(_ permutation: [Int]) -> any LearningRule
}

extension LearningRule {
    public var exactRelations: Set<ExactRelation> { [] }
    public func permutingUnits(_ permutation: [Int]) -> any LearningRule { self }
}

extension Matrix {
    /// Rows renumbered: row p moves to permutation[p].
    public func permutingRows(_ permutation: [Int]) -> Matrix {
        var m = self
        for p in 0..<rows { for c in 0..<cols { m[permutation[p], c] = self[p, c] } }
        return m
    }
}

extension BPTT {
    public var exactRelations: Set<ExactRelation> { truncation == nil ? [.equalsBPTT, .exactReadout] : [.exactReadout] }
}

extension RTRL {
    public var exactRelations: Set<ExactRelation> { [.equalsBPTT, .exactReadout] }
}

extension EProp {
    public var exactRelations: Set<ExactRelation> {
        feedback == .symmetric ? [.equalsStopGradientBPTT, .equalsBPTTWithoutRecurrence, .exactReadout] : [.exactReadout]
    }

    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        guard case let .fixed(b) = feedback else { return self }
        return EProp(feedback: .fixed(b.permutingRows(permutation)), noiseSeed: noiseSeed, name: name)
    }
}

extension RFLO {
    public var exactRelations: Set<ExactRelation> { [.exactReadout] }
    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        RFLO(feedback: feedback.permutingRows(permutation), noiseSeed: noiseSeed)
    }
}

extension ModProp {
    public var exactRelations: Set<ExactRelation> { [.equalsBPTTWithoutRecurrence, .exactReadout] }
    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        var types = cellType
        for p in 0..<cellType.count { types[permutation[p]] = cellType[p] }
        return ModProp(cellType: types, mu: mu, modulation: modulation, noiseSeed: noiseSeed)
    }
}
