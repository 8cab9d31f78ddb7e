import Foundation

/// The files of one training run (<doc:FileFormats>): config.json, metrics.csv, model-init.json,
/// model.json and, last, summary.json — a run directory is complete exactly when its summary
/// exists. Every file is written to a temporary name and renamed into place.
public enum RunDirectory {
    /// Writes the run's files. A summary.json already there is removed first, so that until the
    /// new summary lands the directory reads as incomplete, never as a mix of two runs.
    public static func write(_ result: TrainingResult, config: TrainingConfig, to dir: String) throws {
        try Directory.create(dir)
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        if FileManager.default.fileExists(atPath: path("summary.json")) {
            guard unlink(path("summary.json")) == 0 else { throw InputError("\(path("summary.json")): cannot replace the completed run's summary") }
        }
        try AtomicFile.write(resolvedConfig(config).serialized + "\n", to: path("config.json"))
        try AtomicFile.write(metricsCSV(result.metrics), to: path("metrics.csv"))
        try AtomicFile.write(result.initialModel.json.serialized + "\n", to: path("model-init.json"))
        try AtomicFile.write(result.model.json.serialized + "\n", to: path("model.json"))
        try AtomicFile.write(summary(result, config: config).serialized + "\n", to: path("summary.json"))
    }

    /// Whether `dir` holds a completed run: its summary.json, written last, exists.
    public static func isComplete(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("summary.json"))
    }

    /// The fully resolved configuration, including what was derived (α, dt, loss).
    public static func resolvedConfig(_ c: TrainingConfig) throws -> JSONValue {
        let task = try TaskRegistry.task(named: c.task)
        let o = c.optimizer
        return .object([
            ("task", .string(c.task)), ("rule", .string(c.rule)), ("init", .string(c.initFamily)),
            ("gain", .number(c.gain)), ("seed", .number(Double(c.seed))), ("iterations", .number(Double(c.iterations))),
            ("units", .number(Double(c.units))), ("inputs", .number(Double(task.inputSize))), ("outputs", .number(Double(task.outputSize))),
            ("tau_ms", .number(c.tauMs)), ("dt_ms", .number(task.dtMs)), ("alpha", .number(c.alpha(for: task))),
            ("activation", .string(c.activation.rawValue)), ("loss", .string(task.lossKind.rawValue)),
            ("batch_size", .number(Double(c.batchSize))),
            ("optimizer", .object([
                ("kind", .string(o.kind.rawValue)), ("lr", .number(o.learningRate)), ("momentum", .number(o.momentum)),
                ("beta1", .number(o.beta1)), ("beta2", .number(o.beta2)), ("epsilon", .number(o.epsilon)),
                ("weight_decay", .number(o.weightDecay)), ("clip_norm", o.clipNorm.map { .number($0) } ?? .null),
            ])),
            ("log_every", .number(Double(c.logEvery))), ("eval_trials", .number(Double(c.evalTrials))),
            ("trainable", .array(Parameters.tensors.map(\.name).filter { c.trainable.names.contains($0) }.map { .string($0) })),
            ("floss", c.floss.map { .string($0.specification) } ?? .null),
            ("floss_name", .string(c.flossName)),
            ("biornn_version", .string(biornnVersion)),
        ])
    }

    public static func metricsCSV(_ rows: [MetricsRow]) -> String {
        func cell(_ x: Double?) -> String { x.map { JSONValue.format($0) } ?? "" }
        var out = "iteration,loss,train_loss,accuracy,lambda_max\n"
        for r in rows { out += "\(r.iteration),\(cell(r.loss)),\(cell(r.trainLoss)),\(cell(r.accuracy)),\(cell(r.lambdaMax))\n" }
        return out
    }

    public static func summary(_ r: TrainingResult, config: TrainingConfig) throws -> JSONValue {
        let task = try TaskRegistry.task(named: config.task)
        let last = r.metrics.last
        func num(_ x: Double?) -> JSONValue { x.flatMap { $0.isFinite ? .number($0) : nil } ?? .null }
        return .object([
            ("status", .string(r.status.rawValue)), ("reason", r.reason.map { .string($0) } ?? .null),
            ("final_loss", num(last?.loss)), ("final_accuracy", num(last?.accuracy)),
            ("criterion", .number(task.criterion)),
            ("iterations_to_criterion", r.iterationsToCriterion.map { .number(Double($0)) } ?? .null),
            ("learning_curve_area", num(r.learningCurveArea)),
            ("iterations_run", .number(Double(r.trainLosses.count))),
            ("lambda_max_before", .object([("driven", num(r.lambdaBefore.driven)), ("autonomous", num(r.lambdaBefore.autonomous))])),
            ("lambda_max_after_preflossing", r.lambdaAfterPreflossing.map { .object([("driven", num($0.driven)), ("autonomous", num($0.autonomous))]) } ?? .null),
            ("lambda_max_after", .object([("driven", num(r.lambdaAfter.driven)), ("autonomous", num(r.lambdaAfter.autonomous))])),
            ("flossing_steps", .number(Double(r.flossingSteps))),
            ("initial_alignment_w_rec", num(r.initialAlignment)),
            ("exponents_before", .array(r.spectrumBefore.map(num))), ("exponents_after", .array(r.spectrumAfter.map(num))),
            ("lambda_max_units", .string("per-step; driven: by the first held-out trial, repeated; autonomous: zero input")),
        ])
    }
}
