import BioRNN
import Foundation

/// One check of the conformance kit and what it found.
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    /// Every check the kit can run, by value; `description` is the name the report prints.
    public enum Kind: Hashable, Sendable, CustomStringConvertible {
        case construction
        case shapesAndFiniteness
        case determinism
        case permutationEquivariance
        case batchAdditivity
        case edgeCases
        /// Declared exact relations (``ExactRelation``).
        case equalsBPTT
        case exactReadout
        case equalsStopGradientBPTT
        case equalsBPTTWithoutRecurrence
        /// A declared special case (``Reduction``), by its name.
        case reduction(String)
        /// Online rules (``OnlineLearningRule``): the increments sum to the gradient; changing the
        /// data after step t leaves the increments up to t unchanged; the state does not grow with T.
        case incrementsSumToGradient
        case causality
        case boundedState
        /// The author's alignment thresholds.
        case alignment
        case learning

        /// The check of a declared exact relation.
        public init(_ relation: ExactRelation) {
            switch relation {
            case .equalsBPTT: self = .equalsBPTT
            case .exactReadout: self = .exactReadout
            case .equalsStopGradientBPTT: self = .equalsStopGradientBPTT
            case .equalsBPTTWithoutRecurrence: self = .equalsBPTTWithoutRecurrence
            }
        }

        public var description: String {
            switch self {
            case .construction: "construction"
            case .shapesAndFiniteness: "shapes and finiteness"
            case .determinism: "determinism"
            case .permutationEquivariance: "permutation equivariance"
            case .batchAdditivity: "batch additivity"
            case .edgeCases: "edge cases"
            case .equalsBPTT: "equals BPTT"
            case .exactReadout: "exact readout"
            case .equalsStopGradientBPTT: "equals stop-gradient BPTT"
            case .equalsBPTTWithoutRecurrence: "equals BPTT when W_rec = 0"
            case let .reduction(name): "reduction: \(name)"
            case .incrementsSumToGradient: "online: increments sum to the gradient"
            case .causality: "online: causal"
            case .boundedState: "online: state bounded in T"
            case .alignment: "alignment thresholds"
            case .learning: "loss decreases on 2AF"
            }
        }
    }

    public let kind: Kind
    public let passed: Bool
    /// What was compared and, for comparisons, the worst tensor and its margin; on failure, the
    /// failing cases.
    public let detail: String
    public var name: String { kind.description }
    public var description: String { "\(passed ? "pass" : "FAIL")  \(name): \(detail)" }
}

/// The rule's gradient against BPTT's on one family and gain: per tensor, the mean over the
/// networks of the cosine and of the fraction of entries whose sign agrees (entries where BPTT's
/// is zero left out).
public struct AlignmentCell: Sendable {
    public let family: String
    public let gain: Double
    public let networks: Int
    public let cosine: [String: Double]
    public let signAgreement: [String: Double]
}

/// Whether the rule runs online (``OnlineLearningRule``) and, if so, whether the kit certified it.
public enum OnlineStatus: Sendable, Equatable {
    /// The rule has no step-by-step form.
    case notOnline
    /// Increments sum to the gradient, causal, and a state that does not grow with T: at most
    /// this many values over the kit's networks.
    case certified(carriedValues: Int)
    /// Increments that sum to the gradient and are causal, with a state the kit did not measure,
    /// and why (an external program's; a declared buffer too long to run).
    case causal(stateNotMeasured: String)
    case failed
}

/// Everything the kit found about one rule.
public struct ConformanceReport: Sendable, CustomStringConvertible {
    public let rule: String
    public let checks: [ConformanceCheck]
    public let online: OnlineStatus
    /// Alignment with BPTT over the distribution of networks (reported; judged only against the
    /// author's thresholds).
    public let alignment: [AlignmentCell]

    public var passed: Bool { checks.allSatisfy(\.passed) }
    public func check(_ kind: ConformanceCheck.Kind) -> ConformanceCheck? { checks.first { $0.kind == kind } }

    public var description: String {
        var s = "conformance of \(rule): \(passed ? "all checks pass" : "FAILED")\n"
        for c in checks { s += "  \(c)\n" }
        switch online {
        case .notOnline: s += "  online: no (the rule has no step-by-step form)\n"
        case let .certified(values): s += "  online: certified (causal; a state of at most \(values) values on these networks, whatever T)\n"
        case let .causal(why): s += "  online: causal increments; the state is not measured (\(why))\n"
        case .failed: s += "  online: not certified (see the failed online checks)\n"
        }
        s += alignmentTable
        return s
    }

    /// "cosine / sign agreement" per tensor, one row per family and gain.
    var alignmentTable: String {
        guard let first = alignment.first else { return "" }
        let tensors = ["w_rec", "w_in", "b_rec", "h0"].filter { first.cosine[$0] != nil }
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        let s = "  alignment with BPTT (cosine / sign agreement, mean over \(first.networks) networks each):\n"
        var rows = ["    " + pad("network", 18) + tensors.map { pad($0, 15) }.joined()]
        for cell in alignment {
            rows.append("    " + pad("\(cell.family) g=\(String(format: "%g", cell.gain))", 18)
                + tensors.map { pad(String(format: "%.3f / %.2f", cell.cosine[$0] ?? .nan, cell.signAgreement[$0] ?? .nan), 15) }.joined())
        }
        return s + rows.map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) + "\n" }.joined()
    }
}
