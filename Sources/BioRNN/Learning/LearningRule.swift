/// A loss and a gradient estimate for every parameter (frozen ones included; training ignores them).
public struct LossAndGradient: Sendable {
    public var loss: Double
    public var gradients: Parameters

    public init(loss: Double, gradients: Parameters) {
        self.loss = loss
        self.gradients = gradients
    }
}

/// An exact relationship a rule claims (the table of <doc:LearningRules>); the conformance kit checks each
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

/// What a rule needs of the network it trains, declared by the rule's type so that the registry,
/// sweeps, `align` and the conformance kit can ask before any network exists.
public struct NetworkRequirement: Sendable, Equatable, CustomStringConvertible {
    /// The network must have Dale signs (a `dale` initial connectivity), which define cell types.
    public var daleSigns = false
    /// The one activation the rule is defined for (nil: any).
    public var activation: Activation?
    /// The largest network the rule can afford (nil: any size).
    public var maxUnits: Int?
    /// Why `maxUnits` holds, for the error message.
    public var sizeReason = ""

    public init(daleSigns: Bool = false, activation: Activation? = nil, maxUnits: Int? = nil, sizeReason: String = "") {
        self.daleSigns = daleSigns
        self.activation = activation
        self.maxUnits = maxUnits
        self.sizeReason = sizeReason
    }

    /// Any network.
    public static let none = NetworkRequirement()

    /// "a Dale network (dale_signs, e.g. --init dale) with relu activation", or "any network".
    public var description: String {
        var parts: [String] = []
        if daleSigns { parts.append("a Dale network (dale_signs, e.g. --init dale)") }
        if let activation { parts.append("\(daleSigns ? "with " : "a network with ")\(activation.rawValue) activation") }
        if let maxUnits { parts.append("\(parts.isEmpty ? "a network of" : "of") at most \(maxUnits) units") }
        return parts.isEmpty ? "any network" : parts.joined(separator: " ")
    }

    /// Checks a network (or the settings that will build one) against the requirement; the error
    /// names the rule.
    public func check(rule: String, units: Int, activation: Activation, dale: Bool) throws {
        if let maxUnits, units > maxUnits {
            throw InputError(.rule, "\(rule) is limited to \(maxUnits) units\(sizeReason.isEmpty ? "" : " (\(sizeReason))"); the model has \(units)")
        }
        if (daleSigns && !dale) || (self.activation.map { $0 != activation } ?? false) {
            throw InputError(.rule, "\(rule) requires \(description)")
        }
    }

    /// The initial family and activation a study runs this rule on, given the ones it asked for:
    /// a rule that needs Dale signs runs on `dale`, one that needs an activation on that one.
    public func network(initFamily: String, activation: Activation) -> (initFamily: String, activation: Activation) {
        (daleSigns ? "dale" : initFamily, self.activation ?? activation)
    }
}

/// What every learning rule does, exact or local (<doc:LearningRules>): a batch in, a gradient
/// estimate for each parameter out. `train`, `gradient` and the conformance kit use rules only
/// through this. A rule states next to its implementation what it needs of a network
/// (``requirement``), which exact relations it claims (``exactRelations``) and in which special
/// cases it equals another rule (``reductions``).
public protocol LearningRule: Sendable {
    /// The `--rule` name, e.g. "bptt", "tbptt:5", "eprop".
    var name: String { get }
    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient
    /// What every network this kind of rule trains must be.
    static var requirement: NetworkRequirement { get }
    /// The exact relationships this rule claims.
    var exactRelations: Set<ExactRelation> { get }
    /// The special cases in which this rule equals another exactly.
    var reductions: [Reduction] { get }
    /// The same rule for a network whose units are renumbered, unit p becoming permutation[p]
    /// (rules holding unit-indexed state, such as a feedback matrix, renumber it too).
    func permutingUnits(_ permutation: [Int]) -> any LearningRule
}

extension LearningRule {
    public static var requirement: NetworkRequirement { .none }
    /// The requirement of this rule's type.
    public var requirement: NetworkRequirement { Self.requirement }
    public var exactRelations: Set<ExactRelation> { [] }
    public var reductions: [Reduction] { [] }
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
