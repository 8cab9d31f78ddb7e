/// The loss a batch is trained with (<doc:TheModel>).
public enum LossKind: String, CaseIterable, Sendable, Codable {
    /// 0.5·Σ_{t,b} m[t,b]·‖y_{t,b} − target_{t,b}‖² / B
    case mse
    /// Σ_{t,b} m[t,b]·(−log softmax(y_{t,b})[label_{t,b}]) / B
    case xent
}

/// T time steps of B trials: inputs, and targets (mse) or class labels (xent), and a mask.
/// Flat storage, time-major: entry (t, b, i) of `inputs` is `inputs[(t·B + b)·I + i]`, so that
/// the inputs of one step are one contiguous B×I block (one GEMM per step, or per batch).
public struct Batch: Equatable, Sendable {
    public let steps: Int
    public let trials: Int
    public let inputSize: Int
    public var inputs: [Double]
    /// T·B·O regression targets (mse).
    public var targets: [Double]?
    /// Their width O (0 for a labelled batch).
    public let targetSize: Int
    /// T·B class labels (xent).
    public var labels: [Int]?
    /// T·B weights m[t,b] ∈ {0, 1}.
    public var mask: [Double]

    public init(steps: Int, trials: Int, inputSize: Int, inputs: [Double],
                targets: [Double]? = nil, targetSize: Int = 0, labels: [Int]? = nil, mask: [Double]? = nil) {
        precondition(trials >= 1, "a batch has at least one trial")
        precondition(inputs.count == steps * trials * inputSize, "inputs: wrong size")
        precondition((targets == nil) != (labels == nil), "a batch has targets or labels")
        if let targets { precondition(targets.count == steps * trials * targetSize, "targets: wrong size") }
        if let labels { precondition(labels.count == steps * trials, "labels: wrong size") }
        self.steps = steps
        self.trials = trials
        self.inputSize = inputSize
        self.inputs = inputs
        self.targets = targets
        self.targetSize = targets == nil ? 0 : targetSize
        self.labels = labels
        self.mask = mask ?? Array(repeating: 1, count: steps * trials)
        precondition(self.mask.count == steps * trials, "mask: wrong size")
    }

    public var lossKind: LossKind { labels == nil ? .mse : .xent }

    /// The first trial alone (Lyapunov analysis and flossing are driven by it).
    public func trial(_ b: Int) -> Batch {
        precondition(b < trials)
        func pick<T>(_ v: [T], width w: Int) -> [T] {
            var out: [T] = []
            out.reserveCapacity(steps * w)
            for t in 0..<steps {
                let start = (t * trials + b) * w
                out.append(contentsOf: v[start..<(start + w)])
            }
            return out
        }
        return Batch(steps: steps, trials: 1, inputSize: inputSize, inputs: pick(inputs, width: inputSize),
                     targets: targets.map { pick($0, width: targetSize) }, targetSize: targetSize,
                     labels: labels.map { pick($0, width: 1) }, mask: pick(mask, width: 1))
    }
}
