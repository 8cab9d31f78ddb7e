import Foundation

/// A flossing schedule and its settings (<doc:GradientFlossing>; `--floss` of `train`, options of `floss`).
public struct FlossingConfig: Equatable, Sendable {
    public var mode: FlossMode = .local
    /// Number of exponents regularised.
    public var k = 1
    /// Window T_f over which λ_i is measured, after `transient` steps.
    public var window = 200
    public var transient = 300
    public var learningRate = 0.002
    public var target = 0.0
    /// Flossing steps before task training.
    public var preSteps = 100
    /// Interleaving: every `every` training iterations, `count` flossing steps (0: none).
    public var every = 0
    public var count = 0
    /// Tensors flossed (W_rec and b_rec by default; W_in optionally).
    public var trainable: TrainableSet = [.wRec, .bRec]

    public init(mode: FlossMode = .local) { self.mode = mode }

    /// Parses "mode=local,k=1,window=200,transient=300,lr=0.002,target=0,pre=100,every=50,count=5,w_in=1".
    public init(spec: String) throws {
        for item in spec.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { throw InputError(.floss, "'\(item)' is not key=value") }
            let (key, value) = (parts[0], parts[1])
            func int() throws -> Int {
                guard let v = Int(value), v >= 0 else { throw InputError(.floss, "\(key) must be an integer ≥ 0, got '\(value)'") }
                return v
            }
            func real() throws -> Double {
                guard let v = Double(value), v.isFinite else { throw InputError(.floss, "\(key) must be a finite number, got '\(value)'") }
                return v
            }
            switch key {
            case "mode":
                guard let m = FlossMode(rawValue: value) else { throw InputError(.floss, "mode must be full, local or local-explicit, got '\(value)'") }
                mode = m
            case "k": k = try int()
            case "window": window = try int()
            case "transient": transient = try int()
            case "lr": learningRate = try real()
            case "target": target = try real()
            case "pre": preSteps = try int()
            case "every": every = try int()
            case "count": count = try int()
            case "w_in": if try int() != 0 { trainable.insert(.wIn) }
            default: throw InputError(.floss, unknownName(key, kind: "key", known: ["mode", "k", "window", "transient", "lr", "target", "pre", "every", "count", "w_in"]))
            }
        }
        try validate()
    }

    public func validate() throws {
        try Lyapunov.checkExponentCount(k, units: nil, field: .floss)
        guard window >= 1 else { throw InputError(.floss, "window must be ≥ 1, got \(window)") }
        guard learningRate > 0 else { throw InputError(.floss, "lr must be > 0, got \(learningRate)") }
        guard (every == 0) == (count == 0) else { throw InputError(.floss, "every and count go together (both 0, or both ≥ 1)") }
    }

    public var specification: String {
        "mode=\(mode.rawValue),k=\(k),window=\(window),transient=\(transient),lr=\(JSONValue.format(learningRate)),target=\(JSONValue.format(target)),pre=\(preSteps),every=\(every),count=\(count),w_in=\(trainable.contains(.wIn) ? 1 : 0)"
    }
}

/// Gradient flossing of one network, with its own Adam state (<doc:GradientFlossing>). Each step records a
/// fresh window — new initial condition and orthonormal system from `seed` and the step number,
/// and, when driven, new inputs from `inputs(step)` — and follows the mode's gradient of
/// L = (1/k)·Σ_i (λ_i − λ_target)².
public struct Flosser {
    public let config: FlossingConfig
    public let seed: UInt64
    private var optimizer: Optimizer
    public private(set) var steps = 0
    /// The window's loss and exponents at every step taken.
    public private(set) var history: [(loss: Double, exponents: [Double])] = []

    public init(_ config: FlossingConfig, seed: UInt64) {
        self.config = config
        self.seed = seed
        optimizer = Optimizer(OptimizerConfig(kind: .adam, learningRate: config.learningRate, clipNorm: nil), trainable: config.trainable)
    }

    /// `count` flossing steps on `model`. `inputs(step)` gives the input sequence of a step (nil:
    /// autonomous). Throws `FlossingError` if a window's tangent space collapses.
    public mutating func floss(_ model: inout RNN, steps count: Int, inputs: ((Int) -> Matrix?)? = nil) throws {
        try Lyapunov.checkExponentCount(config.k, units: model.units, field: .floss)
        for _ in 0..<count {
            var rng = RandomStream(seed: seed, purpose: .flossingStep, index: steps)
            let map = RNNMap(model, inputs: inputs?(steps))
            let window = try FlossingWindow.record(map, k: config.k, transient: config.transient, window: config.window,
                                                   initialConditionSeed: rng.next(), orthonormalSeed: rng.next())
            history.append((window.loss(target: config.target), window.exponents))
            let gradient = window.gradient(mode: config.mode, target: config.target)
            guard gradient.isFinite else { throw FlossingError(message: "flossing: the gradient is not finite at flossing step \(steps)") }
            optimizer.update(&model.parameters, with: gradient)
            model.projectOntoDaleSigns()
            if let why = model.parameters.divergence { throw FlossingError(message: "flossing: \(why) after flossing step \(steps)") }
            steps += 1
        }
    }
}

/// The first k exponents of a network on a fresh trajectory, for judging flossing
/// (``LyapunovOptions/flossingEvaluation``), from seeds no flossing step uses.
public func freshExponents(_ model: RNN, k: Int, inputs: Matrix? = nil, seed: UInt64) throws -> LyapunovResult {
    var options = LyapunovOptions.flossingEvaluation
    var rng = RandomStream(seed: seed, purpose: .flossingEvaluation)
    options.initialConditionSeed = rng.next()
    options.orthonormalSeed = rng.next()
    return try Lyapunov.spectrum(of: RNNMap(model, inputs: inputs), k: k, options: options)
}
