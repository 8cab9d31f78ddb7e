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
            With --floss, metrics.csv's first row is measured after pre-flossing. Every file is written atomically. \
            A directory that holds a completed run (with summary.json) is not overwritten without --force. \
            A run that diverges still writes its directory, prints the reason on stderr and exits with status 3.
            """
    )

    @Option(help: "Task name (see `biornn task list`).") var task: String
    @Option(help: "Learning rule: \(RuleRegistry.names.joined(separator: ", ")).") var rule: String
    @Option(parsing: .unconditional, help: "Gain g of the initial recurrent weights.") var gain: Double
    @Option(name: .customLong("init"), help: "Initial connectivity: gaussian, orthogonal, sparse, dale.") var initFamily = "gaussian"
    @Option(parsing: .unconditional, help: "Experiment seed (network, data, feedback and held-out streams derive from it).") var seed: Whole
    @Option(parsing: .unconditional, help: "Training iterations (one batch each).") var iterations: Whole
    @Option(help: "Output directory.") var out: String
    @Flag(help: "Replace a completed run in the output directory.") var force = false
    @Option(parsing: .unconditional, help: "Number of recurrent units N.") var units: Whole = 64
    @Option(parsing: .unconditional, help: "Membrane time constant τ in ms; α = dt/τ.") var tauMs = 100.0
    @Option(help: "Activation: tanh, retanh, relu, softplus, linear.") var activation = "tanh"
    @Option(parsing: .unconditional, help: "Trials per training batch.") var trials: Whole = 32
    @Option(name: .customLong("batch-size"), help: .hidden) var oldBatchSize: String?
    @Option(help: "Optimiser: sgd, adam, adamw.") var optimizer = "adam"
    @Option(parsing: .unconditional, help: "Learning rate.") var lr = 0.01
    @Option(parsing: .unconditional, help: "Clip the gradient norm to this value (0: no clipping).") var clip = 1.0
    @Option(parsing: .unconditional, help: "Evaluate on held-out trials every this many iterations.") var logEvery: Whole = 10
    @Option(parsing: .unconditional, help: "Number of held-out trials.") var evalTrials: Whole = 256
    @Option(help: "Gradient flossing: key=value list, e.g. mode=local,k=1,window=200,transient=300,lr=0.002,target=0,pre=100,every=50,count=5,w_in=0 (mode full|local|local-explicit; pre: steps before training; every/count: interleaved steps).") var floss: String?
    @Flag(help: "Print summary.json on stdout.") var json = false

    func config() throws -> TrainingConfig {
        try refuseRenamed(oldBatchSize, old: "batch-size", new: "trials")
        let (seed, iterations, units, trials, logEvery, evalTrials) = (self.seed.value, self.iterations.value, self.units.value,
                                                                       self.trials.value, self.logEvery.value, self.evalTrials.value)
        var c = TrainingConfig(task: task, rule: rule, gain: gain, seed: try validatedSeed(seed), iterations: iterations)
        c.initFamily = initFamily
        c.units = units
        c.tauMs = tauMs
        guard let act = Activation(rawValue: activation) else {
            throw InputError(.activation, unknownName(activation, kind: "activation", known: Activation.allCases.map(\.rawValue)))
        }
        c.activation = act
        c.batchSize = trials
        guard let kind = OptimizerConfig.Kind(rawValue: optimizer) else {
            throw InputError(.optimizer, unknownName(optimizer, kind: "optimiser", known: OptimizerConfig.Kind.allCases.map(\.rawValue)))
        }
        guard clip >= 0 else { throw InputError(.clip, "must be ≥ 0, got \(clip)") }
        c.optimizer = OptimizerConfig(kind: kind, learningRate: lr, clipNorm: clip == 0 ? nil : clip)
        c.logEvery = logEvery
        c.evalTrials = evalTrials
        if let floss { c.floss = try FlossingConfig(spec: floss) }
        try c.validate()
        return c
    }

    func run() throws {
        let c = try config()
        if RunDirectory.isComplete(out) && !force {
            throw InputError("\(out): holds a completed run (summary.json); pass --force to replace it, or choose another --out")
        }
        let task = try TaskRegistry.task(named: c.task)
        Output.announce("train", multiplyAdds: Double(c.iterations) * Double(c.batchSize + c.evalTrials / c.logEvery)
                            * Double(task.steps) * Double(c.units * c.units) * 3,
                        what: "\(c.iterations) iterations of \(c.batchSize) trials × \(task.steps) steps, N = \(c.units)")
        let progress = ProgressLine(name: "train", unit: "iterations")
        let result = try train(c, progress: { progress.update($0, of: c.iterations) })
        Output.endProgress()
        try RunDirectory.write(result, config: c, to: out)
        if json { Output.printJSON(try RunDirectory.summary(result, config: c)) }
        if result.status == .diverged {
            Output.note("biornn: train: the run diverged: \(result.reason ?? "no reason recorded") (\(out)/summary.json has status diverged)")
            throw ExitCode(3)
        }
    }
}
