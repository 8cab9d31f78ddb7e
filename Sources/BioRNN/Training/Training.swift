import Foundation

/// Trains a network from its initial connectivity with one learning rule (`biornn train`;
/// <doc:FileFormats> describes its files).
///
/// Streams, all from `config.seed`: the network (``StreamPurpose/network``), training trials
/// (``StreamPurpose/data``), held-out trials (``StreamPurpose/heldout``, fixed for the whole run),
/// random feedback (``StreamPurpose/feedback``) and flossing trials (``StreamPurpose/flossingData``).
///
/// The run has four parts: the flossing schedule (`FlossingSchedule`), the loop of training
/// steps with its held-out evaluations, the Lyapunov measurements (`RunMeasurements`) and the
/// learning-speed summary (`LearningSpeed`). `makeRule`, given the initial network, replaces
/// the rule named in the config (new rules under test, the conformance kit). `progress` is called
/// with the number of finished iterations.
public func train(_ config: TrainingConfig, makeRule: ((RNN) throws -> any LearningRule)? = nil,
                  progress: ((Int) -> Void)? = nil) throws -> TrainingResult {
    try config.validate(checkingRule: makeRule == nil)
    let task = try TaskRegistry.task(named: config.task)
    let initialModel = RNN.initial(units: config.units, inputs: task.inputSize, outputs: task.outputSize,
                                   alpha: config.alpha(for: task), activation: config.activation,
                                   connectivity: try Connectivity.named(config.initFamily, gain: config.gain), seed: config.seed)
    let rule = try makeRule?(initialModel) ?? RuleRegistry.rule(named: config.rule, model: initialModel, seed: config.seed)
    var heldoutStream = RandomStream(seed: config.seed, purpose: .heldout)
    let heldout = task.sample(trials: config.evalTrials, using: &heldoutStream)
    var run = TrainingRun(config: config, task: task, rule: rule, model: initialModel,
                          measurements: RunMeasurements(heldout: heldout, seed: config.seed))
    let before = try run.measurements.lambdaMax(initialModel)

    var afterPreflossing: LambdaMax?
    if let f = config.floss, f.preSteps > 0, run.floss(steps: f.preSteps) {
        afterPreflossing = try run.measurements.lambdaMax(run.model)
    }
    try run.loop(initialDrivenLambda: before.driven, progress: progress)

    // The last logged row of a completed run is the final network: reuse its driven λ_max.
    let model = run.model
    var after = LambdaMax(driven: .nan, autonomous: .nan)
    if model.parameters.isFinite {
        let finalRow = run.status == .completed ? run.metrics.last.flatMap { $0.iteration == config.iterations ? $0.lambdaMax : nil } : nil
        after = LambdaMax(driven: try finalRow ?? run.measurements.lambdaMax(model, driven: true),
                          autonomous: try run.measurements.lambdaMax(model, driven: false))
    }
    let speed = LearningSpeed(metrics: run.metrics, task: task)
    return TrainingResult(initialModel: initialModel, model: model, metrics: run.metrics, trainLosses: run.trainLosses,
                          status: run.status, reason: run.reason, iterationsToCriterion: speed.iterationsToCriterion,
                          learningCurveArea: speed.learningCurveArea, lambdaBefore: before, lambdaAfter: after,
                          lambdaAfterPreflossing: afterPreflossing, flossingSteps: run.flossing?.flosser.steps ?? 0,
                          initialAlignment: run.initialAlignment,
                          spectrumBefore: try run.measurements.leadingExponents(initialModel),
                          spectrumAfter: model.parameters.isFinite ? try run.measurements.leadingExponents(model) : [])
}

/// The state of a run while it trains: the network, the optimiser, the flossing schedule, the
/// learning curve, and whether it is still going.
struct TrainingRun {
    let config: TrainingConfig
    let task: any Task
    let rule: any LearningRule
    var model: RNN
    let measurements: RunMeasurements
    var optimizer: Optimizer
    var data: RandomStream
    var flossing: FlossingSchedule?
    var metrics: [MetricsRow] = []
    var trainLosses: [Double] = []
    var status = RunStatus.completed
    var reason: String?
    /// Cosine of the rule's first W_rec gradient with BPTT's (nil for exact BPTT itself).
    var initialAlignment: Double?

    init(config: TrainingConfig, task: any Task, rule: any LearningRule, model: RNN, measurements: RunMeasurements) {
        self.config = config
        self.task = task
        self.rule = rule
        self.model = model
        self.measurements = measurements
        optimizer = Optimizer(config.optimizer, trainable: config.trainable)
        data = RandomStream(seed: config.seed, purpose: .data)
        flossing = config.floss.map { FlossingSchedule(config: $0, seed: config.seed, task: task) }
    }

    /// `count` flossing steps; false, with the run marked diverged, when flossing broke down.
    mutating func floss(steps count: Int) -> Bool {
        guard count > 0, flossing != nil else { return true }
        if let why = flossing!.floss(&model, steps: count) {
            (status, reason) = (.diverged, why)
            return false
        }
        return true
    }

    /// Iterations 0…N: interleaved flossing when it is due, a held-out evaluation every
    /// `logEvery` iterations and at the end, then one training step. Stops early when the run
    /// diverges. Row 0's λ_max without pre-flossing is the initial network's, already measured.
    mutating func loop(initialDrivenLambda: Double, progress: ((Int) -> Void)?) throws {
        let preflossed = (config.floss?.preSteps ?? 0) > 0
        for iteration in 0...config.iterations where status == .completed {
            if let f = config.floss, f.every > 0, iteration > 0, iteration < config.iterations, iteration % f.every == 0 {
                guard floss(steps: f.count) else { return }
            }
            let logNow = iteration % config.logEvery == 0 || iteration == config.iterations
            if logNow {
                let tr = model.run(measurements.heldout)
                let loss = lossAndOutputGradient(tr, measurements.heldout).loss
                let lambda = iteration == 0 && !preflossed ? initialDrivenLambda
                    : model.parameters.isFinite ? try measurements.lambdaMax(model, driven: true) : nil
                metrics.append(MetricsRow(iteration: iteration, loss: loss, trainLoss: nil,
                                          accuracy: accuracy(tr, measurements.heldout), lambdaMax: lambda))
                if !loss.isFinite { return diverge("held-out loss is not finite at iteration \(iteration)") }
            }
            if iteration == config.iterations { return }
            guard step(iteration, logged: logNow) else { return }
            progress?(iteration + 1)
        }
    }

    /// One training step on a fresh batch; false when the run diverged.
    mutating func step(_ iteration: Int, logged: Bool) -> Bool {
        let batch = task.sample(trials: config.batchSize, using: &data)
        let step = rule.gradient(of: model, on: batch)
        let isExactBPTT = rule is BPTT
        if iteration == 0 && !isExactBPTT {
            initialAlignment = cosineSimilarity(step.gradients.wRec.storage, BPTT().gradient(of: model, on: batch).gradients.wRec.storage)
        }
        trainLosses.append(step.loss)
        if logged { metrics[metrics.count - 1].trainLoss = step.loss }
        guard step.loss.isFinite, step.gradients.isFinite else {
            diverge("\(step.loss.isFinite ? "gradient" : "training loss") is not finite at iteration \(iteration)")
            return false
        }
        optimizer.update(&model.parameters, with: step.gradients)
        model.projectOntoDaleSigns()
        if let why = model.parameters.divergence {
            diverge("\(why) after iteration \(iteration)")
            return false
        }
        return true
    }

    mutating func diverge(_ why: String) {
        (status, reason) = (.diverged, why)
    }
}

/// Flossing during a training run: pre-training steps and interleaved ones share one ``Flosser``
/// (its own Adam state and seeds); each step is driven by a fresh task trial from the run seed's
/// ``StreamPurpose/flossingData`` stream.
struct FlossingSchedule {
    var flosser: Flosser
    var trials: RandomStream
    let task: any Task

    init(config: FlossingConfig, seed: UInt64, task: any Task) {
        flosser = Flosser(config, seed: seed)
        trials = RandomStream(seed: seed, purpose: .flossingData)
        self.task = task
    }

    /// `count` steps; the reason when flossing broke down (a collapsed tangent space, a
    /// non-finite gradient), nil otherwise.
    mutating func floss(_ model: inout RNN, steps count: Int) -> String? {
        var stream = trials
        let task = self.task
        defer { trials = stream }
        do {
            try flosser.floss(&model, steps: count, inputs: { _ in
                let trial = task.sample(trials: 1, using: &stream)
                return Matrix(rows: trial.steps, cols: trial.inputSize, storage: trial.inputs)
            })
            return nil
        } catch {
            return "\(error)"
        }
    }
}

/// How fast a run learned, from its logged held-out points (a run's summary reports both).
public struct LearningSpeed: Sendable, Equatable {
    /// First logged iteration at which the task's criterion held (nil: never): held-out accuracy
    /// ≥ the criterion (xent), or loss ≤ criterion × initial loss (mse).
    public var iterationsToCriterion: Int?
    /// Area under the learning curve, normalised to [0, 1] over the logged points: the mean
    /// held-out accuracy (xent), or the mean of min(loss/initial loss, 1) (mse; smaller is faster).
    public var learningCurveArea: Double?

    public init(metrics: [MetricsRow], task: any Task) {
        guard !metrics.isEmpty else { return }
        if task.lossKind == .xent {
            iterationsToCriterion = metrics.first { ($0.accuracy ?? 0) >= task.criterion }?.iteration
            learningCurveArea = metrics.map { $0.accuracy ?? 0 }.reduce(0, +) / Double(metrics.count)
        } else if let initial = metrics.first?.loss, initial > 0 {
            iterationsToCriterion = metrics.first { $0.loss <= task.criterion * initial }?.iteration
            learningCurveArea = metrics.map { min($0.loss / initial, 1) }.reduce(0, +) / Double(metrics.count)
        }
    }
}
