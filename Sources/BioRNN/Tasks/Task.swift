/// A task: a seeded generator of trials with fixed shapes, and what counts as learning it.
///
/// Every random draw comes from the `RandomStream` passed in (the `data` stream of the
/// experiment seed), so the same stream state gives the same batch.
public protocol Task: Sendable {
    /// Registry name, used by `--task`.
    var name: String { get }
    /// One line: what the network must do.
    var summary: String { get }
    /// Where the task and its conventions come from.
    var source: String { get }
    var inputSize: Int { get }
    var outputSize: Int { get }
    var steps: Int { get }
    /// Simulation step in milliseconds.
    var dtMs: Double { get }
    var lossKind: LossKind { get }
    /// The learning-speed criterion: accuracy at least this (xent tasks), or, for mse tasks,
    /// loss at most this fraction of the initial loss.
    var criterion: Double { get }

    func sample(trials: Int, using rng: inout RandomStream) -> Batch
}

/// The one registry of tasks: `--task` names resolve here, and the determinism and shape
/// tests loop over it.
public enum TaskRegistry {
    public static let all: [any Task] = [
        PerceptualDecisionMaking(),
        DelayedMatchToSample(),
        ContextDependentDecisionMaking(),
        DelayedXOR(),
        PatternGeneration(),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func task(named name: String) throws -> any Task {
        guard let t = all.first(where: { $0.name == name }) else {
            throw InputError(.task, unknownName(name, kind: "task", known: names))
        }
        return t
    }
}

/// Assembles a batch trial by trial: each trial writes its own inputs, labels or targets and mask.
struct BatchBuilder {
    let steps: Int, trials: Int, inputSize: Int, outputSize: Int, lossKind: LossKind
    var inputs: [Double]
    var targets: [Double]
    var labels: [Int]
    var mask: [Double]

    init(steps: Int, trials: Int, inputSize: Int, outputSize: Int, lossKind: LossKind) {
        (self.steps, self.trials, self.inputSize, self.outputSize, self.lossKind) = (steps, trials, inputSize, outputSize, lossKind)
        inputs = Array(repeating: 0, count: steps * trials * inputSize)
        targets = lossKind == .mse ? Array(repeating: 0, count: steps * trials * outputSize) : []
        labels = lossKind == .xent ? Array(repeating: 0, count: steps * trials) : []
        mask = Array(repeating: 0, count: steps * trials)
    }

    mutating func setInput(t: Int, trial b: Int, channel i: Int, _ v: Double) { inputs[(t * trials + b) * inputSize + i] = v }
    mutating func addInput(t: Int, trial b: Int, channel i: Int, _ v: Double) { inputs[(t * trials + b) * inputSize + i] += v }
    mutating func setLabel(t: Int, trial b: Int, _ label: Int) { labels[t * trials + b] = label }
    mutating func setTarget(t: Int, trial b: Int, output k: Int, _ v: Double) { targets[(t * trials + b) * outputSize + k] = v }
    mutating func setMask(t: Int, trial b: Int, _ m: Double = 1) { mask[t * trials + b] = m }

    var batch: Batch {
        lossKind == .mse
            ? Batch(steps: steps, trials: trials, inputSize: inputSize, inputs: inputs, targets: targets, targetSize: outputSize, mask: mask)
            : Batch(steps: steps, trials: trials, inputSize: inputSize, inputs: inputs, labels: labels, mask: mask)
    }
}

/// Consecutive epochs of a trial, in steps of dt: [start, end) for each named period.
struct Epochs {
    private(set) var ranges: [(name: String, range: Range<Int>)] = []
    init(dtMs: Double, _ periods: [(String, Double)]) {
        var t = 0
        for (name, ms) in periods {
            let n = Int((ms / dtMs).rounded())
            ranges.append((name, t..<(t + n)))
            t += n
        }
    }
    subscript(name: String) -> Range<Int> { ranges.first { $0.name == name }!.range }
    var total: Int { ranges.last?.range.upperBound ?? 0 }
}
