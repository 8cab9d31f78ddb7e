import ArgumentParser
import BioRNN
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network from a chosen initial connectivity with one learning rule.",
        discussion: """
            Writes DIR/config.json (the fully resolved configuration), DIR/metrics.csv (iteration, held-out loss, \
            training-batch loss, held-out accuracy, λ_max), DIR/model-init.json, DIR/model.json and, last, \
            DIR/summary.json (final loss and accuracy, iterations to the task's criterion, area under the learning \
            curve, λ_max before training, after pre-flossing and after training, status completed or diverged). \
            With --floss, metrics.csv's first row is measured after pre-flossing. Every file is written atomically.
            """
    )

    @Option(help: "Task name (see `biornn task list`).") var task: String
    @Option(help: "Learning rule: \(RuleRegistry.names.joined(separator: ", ")).") var rule: String
    @Option(help: "Gain g of the initial recurrent weights.") var gain: Double
    @Option(name: .customLong("init"), help: "Initial connectivity: gaussian, orthogonal, sparse, dale.") var initFamily = "gaussian"
    @Option(help: "Experiment seed (network, data, feedback and held-out streams derive from it).") var seed: Int
    @Option(help: "Training iterations (one batch each).") var iterations: Int
    @Option(help: "Output directory.") var out: String
    @Option(help: "Number of recurrent units N.") var units = 64
    @Option(help: "Membrane time constant τ in ms; α = dt/τ.") var tauMs = 100.0
    @Option(help: "Activation: tanh, retanh, relu, softplus, linear.") var activation = "tanh"
    @Option(help: "Trials per training batch.") var batchSize = 32
    @Option(help: "Optimiser: sgd, adam, adamw.") var optimizer = "adam"
    @Option(help: "Learning rate.") var lr = 0.01
    @Option(help: "Clip the gradient norm to this value (0: no clipping).") var clip = 1.0
    @Option(help: "Evaluate on held-out trials every this many iterations.") var logEvery = 10
    @Option(help: "Number of held-out trials.") var evalTrials = 256
    @Option(help: "Gradient flossing: key=value list, e.g. mode=local,k=1,window=200,transient=300,lr=0.002,target=0,pre=100,every=50,count=5,w_in=0 (mode full|local|local-explicit; pre: steps before training; every/count: interleaved steps).") var floss: String?
    @Flag(help: "Print summary.json on stdout.") var json = false

    func config() throws -> TrainingConfig {
        var c = TrainingConfig(task: task, rule: rule, gain: gain, seed: try validatedSeed(seed), iterations: iterations)
        c.initFamily = initFamily
        c.units = units
        c.tauMs = tauMs
        guard let act = Activation(rawValue: activation) else {
            throw InputError("activation: unknown activation '\(activation)' (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        c.activation = act
        c.batchSize = batchSize
        guard let kind = OptimizerConfig.Kind(rawValue: optimizer) else { throw InputError("optimizer: unknown optimiser '\(optimizer)' (known: sgd, adam, adamw)") }
        c.optimizer = OptimizerConfig(kind: kind, learningRate: lr, clipNorm: clip == 0 ? nil : clip)
        guard clip >= 0 else { throw InputError("clip: must be ≥ 0, got \(clip)") }
        c.logEvery = logEvery
        c.evalTrials = evalTrials
        if let floss { c.floss = try FlossingConfig(spec: floss) }
        try c.validate()
        return c
    }

    func run() throws {
        let c = try config()
        // Every input is validated (and the rule resolved) inside `train` before any file is written.
        let start = Date()
        let result = try train(c, progress: { done in
            let elapsed = Date().timeIntervalSince(start)
            let eta = done > 0 ? elapsed / Double(done) * Double(c.iterations - done) : 0
            Output.progress("train: iteration \(done)/\(c.iterations), ETA \(Int(eta)) s")
        })
        Output.endProgress()
        try RunDirectory.write(result, config: c, to: out)
        if json { Output.printJSON(try RunDirectory.summary(result, config: c)) }
    }
}
