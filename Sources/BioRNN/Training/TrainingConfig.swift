import Foundation

/// Everything that defines a training run. `resolved` fills in what depends on the task.
public struct TrainingConfig: Equatable, Sendable {
    public var task: String
    public var rule: String
    public var initFamily: String = "gaussian"
    public var gain: Double
    public var seed: UInt64
    public var iterations: Int
    public var units: Int = 64
    /// Membrane time constant τ; α = dt/τ with the task's dt.
    public var tauMs: Double = 100
    public var activation: Activation = .tanh
    public var batchSize: Int = 32
    public var optimizer = OptimizerConfig()
    /// Evaluate on held-out trials every this many iterations (and at the end).
    public var logEvery: Int = 10
    public var evalTrials: Int = 256
    public var trainable: TrainableSet = .all
    /// Gradient flossing before and/or during training (nil: none).
    public var floss: FlossingConfig?
    /// The name of the flossing variant in a sweep ("none" without flossing).
    public var flossName = "none"

    public init(task: String, rule: String, gain: Double, seed: UInt64, iterations: Int) {
        self.task = task
        self.rule = rule
        self.gain = gain
        self.seed = seed
        self.iterations = iterations
    }

    /// α = dt/τ, capped at 1.
    public func alpha(for task: any Task) -> Double { min(task.dtMs / tauMs, 1) }

    /// Checks every field; errors name the field. `checkingRule: false` when a custom rule
    /// replaces the named one.
    public func validate(checkingRule: Bool = true) throws {
        let task = try TaskRegistry.task(named: task)
        if checkingRule { try RuleRegistry.check(rule, units: units, activation: activation, dale: initFamily == "dale") }
        _ = try Connectivity.named(initFamily, gain: gain)
        guard iterations >= 0 && iterations <= Self.maxIterations else {
            throw InputError(.iterations, "must lie in 0…\(Self.maxIterations), got \(iterations)")
        }
        guard units >= 1 && units <= 4096 else { throw InputError(.units, "must lie in 1…4096, got \(units)") }
        guard tauMs.isFinite && tauMs > 0 else { throw InputError(.tauMs, "must be > 0, got \(tauMs)") }
        guard batchSize >= 1 else { throw InputError(.trials, "must be ≥ 1, got \(batchSize)") }
        guard evalTrials >= 1 else { throw InputError(.evalTrials, "must be ≥ 1, got \(evalTrials)") }
        try Trajectory.checkSize(steps: task.steps, trials: batchSize, units: units, field: .trials)
        try Trajectory.checkSize(steps: task.steps, trials: evalTrials, units: units, field: .evalTrials)
        guard logEvery >= 1 else { throw InputError(.logEvery, "must be ≥ 1, got \(logEvery)") }
        guard optimizer.learningRate.isFinite && optimizer.learningRate > 0 else {
            throw InputError(.learningRate, "must be > 0, got \(optimizer.learningRate)")
        }
        if let c = optimizer.clipNorm { guard c.isFinite && c > 0 else { throw InputError(.clip, "must be > 0, got \(c)") } }
        if let floss {
            try floss.validate()
            try Lyapunov.checkExponentCount(floss.k, units: units, field: .floss)
        }
    }

    /// The most training iterations a run may ask for: 10⁷, weeks for the smallest networks.
    public static let maxIterations = 10_000_000
}
