/// A loss and a gradient estimate for every parameter (frozen ones included; training ignores them).
public struct LossAndGradient: Sendable {
    public var loss: Double
    public var gradients: Parameters
}

/// What every learning rule does, exact or local (design §3): a batch in, a gradient estimate for
/// each parameter out. `train`, `gradient` and the conformance tests use rules only through this.
public protocol LearningRule: Sendable {
    /// The `--rule` name, e.g. "bptt", "tbptt:5", "eprop".
    var name: String { get }
    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient
}
