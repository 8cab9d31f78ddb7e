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

extension TrainingConfig {
    /// The options a sweep file may give as one value or as an axis of values (<doc:TheStudy>),
    /// by their JSON keys: iterations, units, tau_ms, activation, batch_size, optimizer, lr, clip,
    /// log_every, eval_trials. (Task, init, gain, rule, seed and flossing have their own axes.)
    public static let sweepSettings: [ConfigField] = [.iterations, .units, .tauMs, .activation, .trials, .optimizer,
                                                      .learningRate, .clip, .logEvery, .evalTrials]

    /// Sets one of `sweepSettings` from its JSON value. Types and names are checked here; ranges
    /// by `validate`. `clip` 0 or null means no clipping.
    public mutating func set(_ field: ConfigField, to value: JSONValue) throws {
        func number() throws -> Double {
            guard case let .number(x) = value, x.isFinite else { throw InputError(field, "expected a number, got \(value.kindName)") }
            return x
        }
        func integer() throws -> Int {
            let x = try number()
            guard x == x.rounded(), abs(x) <= 1e9 else { throw InputError(field, "must be an integer, got \(x)") }
            return Int(x)
        }
        func name() throws -> String {
            guard case let .string(s) = value else { throw InputError(field, "expected a string, got \(value.kindName)") }
            return s
        }
        switch field {
        case .iterations: iterations = try integer()
        case .units: units = try integer()
        case .tauMs: tauMs = try number()
        case .activation:
            let text = try name()
            guard let a = Activation(rawValue: text) else {
                throw InputError(field, unknownName(text, kind: "activation", known: Activation.allCases.map(\.rawValue)))
            }
            activation = a
        case .trials: batchSize = try integer()
        case .optimizer:
            let text = try name()
            guard let kind = OptimizerConfig.Kind(rawValue: text) else {
                throw InputError(field, unknownName(text, kind: "optimiser", known: OptimizerConfig.Kind.allCases.map(\.rawValue)))
            }
            optimizer.kind = kind
        case .learningRate: optimizer.learningRate = try number()
        case .clip:
            if value == .null { optimizer.clipNorm = nil; return }
            let c = try number()
            guard c >= 0 else { throw InputError(field, "must be ≥ 0 (0 or null: no clipping), got \(c)") }
            optimizer.clipNorm = c == 0 ? nil : c
        case .logEvery: logEvery = try integer()
        case .evalTrials: evalTrials = try integer()
        default: preconditionFailure("\(field) is not a sweep setting")
        }
    }

    /// The JSON value of one of `sweepSettings`, as `set` reads it.
    public func value(of field: ConfigField) -> JSONValue {
        switch field {
        case .iterations: .number(Double(iterations))
        case .units: .number(Double(units))
        case .tauMs: .number(tauMs)
        case .activation: .string(activation.rawValue)
        case .trials: .number(Double(batchSize))
        case .optimizer: .string(optimizer.kind.rawValue)
        case .learningRate: .number(optimizer.learningRate)
        case .clip: optimizer.clipNorm.map { .number($0) } ?? .null
        case .logEvery: .number(Double(logEvery))
        case .evalTrials: .number(Double(evalTrials))
        default: preconditionFailure("\(field) is not a sweep setting")
        }
    }
}
