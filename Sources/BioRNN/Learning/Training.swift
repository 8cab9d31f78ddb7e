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
        guard iterations >= 0 else { throw InputError("iterations: must be ≥ 0, got \(iterations)") }
        guard units >= 1 && units <= 4096 else { throw InputError("units: must lie in 1…4096, got \(units)") }
        guard tauMs.isFinite && tauMs > 0 else { throw InputError("tau-ms: must be > 0, got \(tauMs)") }
        guard batchSize >= 1 else { throw InputError("batch-size: must be ≥ 1, got \(batchSize)") }
        guard evalTrials >= 1 else { throw InputError("eval-trials: must be ≥ 1, got \(evalTrials)") }
        try Trajectory.checkSize(steps: task.steps, trials: batchSize, units: units, field: "batch-size")
        try Trajectory.checkSize(steps: task.steps, trials: evalTrials, units: units, field: "eval-trials")
        guard logEvery >= 1 else { throw InputError("log-every: must be ≥ 1, got \(logEvery)") }
        guard optimizer.learningRate.isFinite && optimizer.learningRate > 0 else { throw InputError("lr: must be > 0, got \(optimizer.learningRate)") }
        if let c = optimizer.clipNorm { guard c.isFinite && c > 0 else { throw InputError("clip: must be > 0, got \(c)") } }
        if let floss {
            try floss.validate()
            guard floss.k <= units else { throw InputError("floss: k must lie in 1…\(units) (the number of units), got \(floss.k)") }
        }
    }
}

/// One logged point of a learning curve.
public struct MetricsRow: Equatable, Sendable {
    public var iteration: Int
    /// Loss on the held-out trials.
    public var loss: Double
    /// Loss of the training batch of this iteration (nil at the final evaluation).
    public var trainLoss: Double?
    /// Held-out accuracy (xent tasks).
    public var accuracy: Double?
    public var lambdaMax: Double?
}

public enum RunStatus: String, Sendable { case completed, diverged }

public struct TrainingResult: Sendable {
    public var initialModel: RNN
    public var model: RNN
    public var metrics: [MetricsRow]
    /// Training-batch loss of every iteration.
    public var trainLosses: [Double]
    public var status: RunStatus
    /// Why a run diverged.
    public var reason: String?
    /// First logged iteration at which the task's criterion held (nil: never).
    public var iterationsToCriterion: Int?
    /// Area under the learning curve, normalised to [0, 1] over the logged points: mean held-out
    /// accuracy (xent), or mean of loss/initial loss (mse; smaller is faster).
    public var learningCurveArea: Double?
    /// λ_max of the initial and the final network, driven by the task and autonomous.
    public var lambdaBefore: LambdaMax
    public var lambdaAfter: LambdaMax
    /// λ_max after pre-flossing, before task training (nil without pre-flossing).
    public var lambdaAfterPreflossing: LambdaMax?
    /// Flossing steps taken (pre-training and interleaved).
    public var flossingSteps = 0
    /// Cosine of the rule's W_rec gradient with BPTT's on the initial network and the first
    /// training batch (nil for BPTT itself).
    public var initialAlignment: Double?
    /// The first few exponents (k = min(3, N), QR method, driven by the first held-out trial)
    /// of the initial and the final network.
    public var spectrumBefore: [Double] = []
    public var spectrumAfter: [Double] = []
}

/// λ_max (per step) of a network driven by the first held-out trial (repeated) and with zero input.
public struct LambdaMax: Sendable, Equatable {
    public var driven: Double
    public var autonomous: Double
}

/// The options of a run's Lyapunov measurements: 200 transient and 1000 measured steps, seeds
/// from the run's seed.
func runMeasurementOptions(seed: UInt64) -> LyapunovOptions {
    var options = LyapunovOptions(transient: 200, steps: 1000)
    options.initialConditionSeed = seed
    options.orthonormalSeed = seed
    return options
}

/// The first min(3, N) exponents, driven by the first held-out trial (QR method).
func measureLeadingExponents(_ model: RNN, drivenBy batch: Batch, seed: UInt64) -> [Double] {
    try! Lyapunov.spectrum(of: RNNMap(model, drivenBy: batch), k: min(3, model.units), options: runMeasurementOptions(seed: seed)).exponents
}

/// λ_max from one tangent vector (s.e. ≈ 0.005 for chaotic N = 64 networks), driven by the first
/// trial of `batch`, or autonomous when `batch` is nil.
func measureLambdaMax(_ model: RNN, drivenBy batch: Batch?, seed: UInt64) -> Double {
    let map = batch.map { RNNMap(model, drivenBy: $0) } ?? RNNMap(model)
    return try! Lyapunov.maximalExponent(of: map, options: runMeasurementOptions(seed: seed)).exponents[0]
}

/// λ_max driven by the first held-out trial and autonomous.
func measureLambdaMax(_ model: RNN, heldout: Batch, seed: UInt64) -> LambdaMax {
    LambdaMax(driven: measureLambdaMax(model, drivenBy: heldout, seed: seed), autonomous: measureLambdaMax(model, drivenBy: nil, seed: seed))
}

/// Trains a network from its initial connectivity with one learning rule (design §6 `train`).
///
/// Streams: the network from `seed`/network, training trials from `seed`/data, held-out trials
/// from `seed`/"heldout" (fixed for the whole run), random feedback from `seed`/feedback.
///
/// With `config.floss`: `preSteps` flossing steps before training, and `count` steps before
/// every `every`-th iteration, with their own Adam state and seeds, each driven by a fresh task
/// trial from `seed`/"floss-data". A collapsed tangent space ends the run as diverged.
/// `makeRule`, given the initial network, replaces the rule named in the config (new rules under
/// test, the conformance kit).
public func train(_ config: TrainingConfig, makeRule: ((RNN) throws -> any LearningRule)? = nil,
                  progress: ((Int) -> Void)? = nil) throws -> TrainingResult {
    try config.validate(checkingRule: makeRule == nil)
    let task = try TaskRegistry.task(named: config.task)
    let connectivity = try Connectivity.named(config.initFamily, gain: config.gain)
    var model = RNN.initial(units: config.units, inputs: task.inputSize, outputs: task.outputSize,
                            alpha: config.alpha(for: task), activation: config.activation,
                            connectivity: connectivity, seed: config.seed)
    let initialModel = model
    let rule = try makeRule?(model) ?? RuleRegistry.rule(named: config.rule, model: model, seed: config.seed)
    var optimizer = Optimizer(config.optimizer, trainable: config.trainable)
    var data = RandomStream(seed: config.seed, purpose: .data)
    var heldoutStream = RandomStream(seed: config.seed, name: "heldout")
    let heldout = task.sample(trials: config.evalTrials, using: &heldoutStream)

    func evaluate(_ m: RNN) -> (loss: Double, accuracy: Double?) {
        let tr = m.run(heldout)
        return (lossAndOutputGradient(tr, heldout).loss, accuracy(tr, heldout))
    }

    var metrics: [MetricsRow] = []
    var trainLosses: [Double] = []
    var status = RunStatus.completed
    var reason: String?
    let before = measureLambdaMax(initialModel, heldout: heldout, seed: config.seed)
    var flosser = config.floss.map { Flosser($0, seed: config.seed) }
    var flossData = RandomStream(seed: config.seed, name: "floss-data")
    var flossTrials: [Int: Matrix] = [:]
    func flossInputs(_ step: Int) -> Matrix? {
        if let m = flossTrials[step] { return m }
        let trial = task.sample(trials: 1, using: &flossData)
        let m = Matrix(rows: trial.steps, cols: trial.inputSize, storage: trial.inputs)
        flossTrials = [step: m]
        return m
    }
    /// Runs `count` flossing steps; false (and the reason set) if flossing broke down.
    func floss(_ count: Int) -> Bool {
        guard count > 0, var f = flosser else { return true }
        defer { flosser = f }
        do {
            try f.floss(&model, steps: count, inputs: { flossInputs($0) })
            return true
        } catch {
            status = .diverged
            reason = "\(error)"
            return false
        }
    }
    var afterPreflossing: LambdaMax?
    var alignment: Double?
    if let f = config.floss, f.preSteps > 0 {
        if floss(f.preSteps) { afterPreflossing = measureLambdaMax(model, heldout: heldout, seed: config.seed) }
    }
    for iteration in 0...config.iterations where status == .completed {
        if let f = config.floss, f.every > 0, iteration > 0, iteration < config.iterations, iteration % f.every == 0 {
            guard floss(f.count) else { break }
        }
        let logNow = iteration % config.logEvery == 0 || iteration == config.iterations
        if logNow {
            let e = evaluate(model)
            // Row 0 without pre-flossing is the initial network, whose λ_max is already measured.
            let lambda = iteration == 0 && (config.floss?.preSteps ?? 0) == 0 ? before.driven
                : model.parameters.isFinite ? measureLambdaMax(model, drivenBy: heldout, seed: config.seed) : nil
            metrics.append(MetricsRow(iteration: iteration, loss: e.loss, trainLoss: nil, accuracy: e.accuracy, lambdaMax: lambda))
            if !e.loss.isFinite { status = .diverged; reason = "held-out loss is not finite at iteration \(iteration)"; break }
        }
        if iteration == config.iterations { break }
        let batch = task.sample(trials: config.batchSize, using: &data)
        let step = rule.gradient(of: model, on: batch)
        if iteration == 0 && rule.name != "bptt" {
            alignment = cosineSimilarity(step.gradients.wRec.storage, BPTT().gradient(of: model, on: batch).gradients.wRec.storage)
        }
        trainLosses.append(step.loss)
        if logNow { metrics[metrics.count - 1].trainLoss = step.loss }
        guard step.loss.isFinite, step.gradients.isFinite else {
            status = .diverged
            reason = "\(step.loss.isFinite ? "gradient" : "training loss") is not finite at iteration \(iteration)"
            break
        }
        optimizer.update(&model.parameters, with: step.gradients)
        model.projectOntoDaleSigns()
        if let why = model.parameters.divergence { status = .diverged; reason = "\(why) after iteration \(iteration)"; break }
        progress?(iteration + 1)
    }

    var toCriterion: Int?
    var area: Double?
    if !metrics.isEmpty {
        if task.lossKind == .xent {
            toCriterion = metrics.first { ($0.accuracy ?? 0) >= task.criterion }?.iteration
            area = metrics.map { $0.accuracy ?? 0 }.reduce(0, +) / Double(metrics.count)
        } else if let initial = metrics.first?.loss, initial > 0 {
            toCriterion = metrics.first { $0.loss <= task.criterion * initial }?.iteration
            area = metrics.map { min($0.loss / initial, 1) }.reduce(0, +) / Double(metrics.count)
        }
    }
    // The last logged row of a completed run is the final network: reuse its driven λ_max.
    var after = LambdaMax(driven: .nan, autonomous: .nan)
    if model.parameters.isFinite {
        let finalRow = status == .completed ? metrics.last.flatMap { $0.iteration == config.iterations ? $0.lambdaMax : nil } : nil
        after = LambdaMax(driven: finalRow ?? measureLambdaMax(model, drivenBy: heldout, seed: config.seed),
                          autonomous: measureLambdaMax(model, drivenBy: nil, seed: config.seed))
    }
    let spectrumBefore = measureLeadingExponents(initialModel, drivenBy: heldout, seed: config.seed)
    let spectrumAfter = model.parameters.isFinite ? measureLeadingExponents(model, drivenBy: heldout, seed: config.seed) : []
    return TrainingResult(initialModel: initialModel, model: model, metrics: metrics, trainLosses: trainLosses,
                          status: status, reason: reason, iterationsToCriterion: toCriterion, learningCurveArea: area,
                          lambdaBefore: before, lambdaAfter: after, lambdaAfterPreflossing: afterPreflossing,
                          flossingSteps: flosser?.steps ?? 0, initialAlignment: alignment,
                          spectrumBefore: spectrumBefore, spectrumAfter: spectrumAfter)
}
