import Foundation

extension GoldenCases {
    // MARK: gradients

    /// The two small fixed networks the learning layers are held on: Gaussian/tanh with
    /// regression targets, and Dale/relu with class labels (ModProp's network). N = 6, I = 2,
    /// O = 2, α = 0.3, g = 1.5, 10 steps of 3 trials of Gaussian inputs, the first 2 steps masked.
    static func learningNetwork(_ label: String) -> (model: RNN, batch: Batch) {
        let dale = label == "dale-relu"
        let model = RNN.initial(units: 6, inputs: 2, outputs: 2, alpha: 0.3, activation: dale ? .relu : .tanh,
                                connectivity: dale ? .dale(gain: 1.5) : .gaussian(gain: 1.5), seed: 11)
        var rng = RandomStream(seed: 13, purpose: .data)
        let (T, B) = (10, 3)
        let inputs = (0..<(T * B * 2)).map { _ in rng.normal() }
        let mask = (0..<(T * B)).map { $0 < 2 * B ? 0.0 : 1.0 }
        let batch = dale
            ? Batch(steps: T, trials: B, inputSize: 2, inputs: inputs, labels: (0..<(T * B)).map { _ in rng.index(below: 2) }, mask: mask)
            : Batch(steps: T, trials: B, inputSize: 2, inputs: inputs, targets: (0..<(T * B * 2)).map { _ in rng.normal() }, targetSize: 2, mask: mask)
        return (model, batch)
    }

    /// The rules the gradient and training layers cover: every registered rule, tbptt:K at K = 4.
    /// Every rule once: truncated BPTT at K = 4; ModProp at its default μ (plain "modprop").
    static let goldenRules = RuleRegistry.names.compactMap { $0 == "tbptt:K" ? "tbptt:4" : $0.contains(":") ? nil : $0 }

    /// Every rule's loss and gradient on each fixed network its requirement admits. Rounding
    /// budget: γ_K times the probed condition (``GoldenBudgets/probed(chain:steps:values:seed:probes:_:)``),
    /// K = T(N + I + O + 8) + TB + 16: a backward or forward-in-time pass of T steps, each an inner
    /// product over N units, the inputs and the outputs plus a few elementwise operations, then
    /// the sum over the T·B rows.
    static var gradients: [GoldenCase] {
        ["gaussian-tanh", "dale-relu"].flatMap { label -> [GoldenCase] in
            let (model, batch) = learningNetwork(label)
            return goldenRules.compactMap { name -> GoldenCase? in
                guard let rule = try? RuleRegistry.rule(named: name, model: model, seed: 11) else { return nil }
                let inputs = JSONValue.object([
                    ("rule", .string(name)), ("feedback_seed", .number(11)), ("model", model.json), ("batch", batch.json),
                    ("exact_relations", .array(rule.exactRelations.map(\.rawValue).sorted().map { .string($0) })),
                    ("layout", .string("loss: [E]; each tensor row-major as in the model file (w_in N×I, w_rec N×N, w_out O×N)")),
                ])
                let chain = batch.steps * (model.units + model.inputs + model.outputs + 8) + batch.steps * batch.trials + 16
                return GoldenCase(name: "gradients/\(label)/\(name)", layer: "gradients", inputs: inputs,
                                  compute: { gradientValues(rule.gradient(of: model, on: batch)) }) { values in
                    let flat = values.flatMap(\.values)
                    let (budget, condition) = GoldenBudgets.probed(chain: chain, steps: batch.steps, values: flat) { delta, xi in
                        var moved = model
                        moved.parameters = model.parameters.probed(delta, using: &xi)
                        var b = batch
                        b.inputs = b.inputs.map { $0 * (1 + delta * GoldenBudgets.sign(&xi)) }
                        b.targets = b.targets?.map { $0 * (1 + delta * GoldenBudgets.sign(&xi)) }
                        return (gradientValues(rule.gradient(of: moved, on: b)).flatMap(\.values),
                                model.parameters.entryCount + b.inputs.count + (b.targets?.count ?? 0))
                    }
                    return GoldenTolerance(.rounding, budget: budget, reason: probedReason(chain: chain, condition: condition))
                }
            }
        }
    }

    /// "loss" and every gradient tensor by its file name.
    static func gradientValues(_ step: LossAndGradient) -> GoldenCase.Values {
        [("loss", [step.loss])] + Parameters.tensors.map { ($0.name, step.gradients[keyPath: $0.path]) }
    }

    /// The reason of a probed budget, with the condition it found.
    static func probedReason(chain: Int, condition: Double) -> String {
        "γ_K·√(2n)·(probed componentwise condition) + γ_K·T·max|v|, K = \(chain) (first-order, backward-stable computation; condition probed by ±δ relative perturbations of all n inputs, δ = 1e-6 and 1e-8: relative condition ≈ \(String(format: "%.3g", condition)))"
    }
}

extension GoldenCases {
    // MARK: training

    /// The first losses of every rule on 2AF and delayed XOR: 6 iterations of batches of 4 on
    /// N = 8 networks (g = 1.5, tanh, or the Dale/relu network a rule requires), held-out loss
    /// and accuracy on 16 trials every 3 iterations. Six iterations: the probed condition of the
    /// losses grows with every Adam step (each first step moves every weight by about the
    /// learning rate whatever the gradient's size), and stays small enough here for the
    /// budget to tell rounding from a change.
    static var training: [GoldenCase] {
        ["perceptual-decision", "delayed-xor"].flatMap { task in
            goldenRules.map { rule in trainingCase(task: task, rule: rule, iterations: 6, units: 8, batch: 4, heldout: 16, logEvery: 3, summary: false) }
        } + [trainingCase(task: "perceptual-decision", rule: "eprop", iterations: 30, units: 16, batch: 8, heldout: 32, logEvery: 5, summary: true)]
    }

    /// One training case: with `summary`, a complete short run's learning-speed summary as well.
    static func trainingCase(task: String, rule: String, iterations: Int, units: Int, batch: Int, heldout: Int, logEvery: Int, summary: Bool) -> GoldenCase {
        let config = {
            var c = TrainingConfig(task: task, rule: rule, gain: 1.5, seed: 7, iterations: iterations)
            (c.units, c.batchSize, c.evalTrials, c.logEvery) = (units, batch, heldout, logEvery)
            let requirement = (try? RuleRegistry.requirement(of: rule)) ?? .none
            (c.initFamily, c.activation) = requirement.network(initFamily: "gaussian", activation: .tanh)
            return c
        }()
        let inputs = JSONValue.object([("config", (try? RunDirectory.resolvedConfig(config)) ?? .null)])
        @Sendable func values(_ metrics: [MetricsRow], _ trainLosses: [Double], _ alignment: Double?, _ t: any Task) -> GoldenCase.Values {
            var v: GoldenCase.Values = [("train_loss", trainLosses), ("heldout_loss", metrics.map(\.loss)), ("accuracy", metrics.compactMap(\.accuracy))]
            if summary {
                let speed = LearningSpeed(metrics: metrics, task: t)
                v += [("iterations_to_criterion", [speed.iterationsToCriterion.map(Double.init) ?? -1]),
                      ("learning_curve_area", [speed.learningCurveArea ?? .nan]), ("initial_alignment_w_rec", [alignment ?? .nan])]
            }
            return v
        }
        let name = summary ? "training/summary/\(task)/\(rule)" : "training/first-losses/\(task)/\(rule)"
        return GoldenCase(name: name, layer: "training", inputs: inputs, compute: {
            let r = try train(config)
            return values(r.metrics, r.trainLosses, r.initialAlignment, try TaskRegistry.task(named: task))
        }) { recorded in
            let t = try TaskRegistry.task(named: task)
            let model = RNN.initial(units: units, inputs: t.inputSize, outputs: t.outputSize, alpha: config.alpha(for: t), activation: config.activation,
                                    connectivity: try Connectivity.named(config.initFamily, gain: config.gain), seed: config.seed)
            let learningRule = try RuleRegistry.rule(named: rule, model: model, seed: config.seed)
            var heldoutStream = RandomStream(seed: config.seed, purpose: .heldout)
            let measurements = RunMeasurements(heldout: t.sample(trials: heldout, using: &heldoutStream), seed: config.seed)
            let perStep = t.steps * (units + t.inputSize + t.outputSize + 8) + t.steps * batch + 30
            let chain = iterations * perStep
            let (budget, condition) = try GoldenBudgets.probed(chain: chain, steps: iterations * t.steps, values: recorded.flatMap(\.values).filter(\.isFinite)) { delta, xi in
                var start = model
                start.parameters = model.parameters.probed(delta, using: &xi)
                var run = TrainingRun(config: config, task: t, rule: learningRule, model: start, measurements: measurements)
                try run.loop(initialDrivenLambda: 0, progress: nil)
                return (values(run.metrics, run.trainLosses, run.initialAlignment, t).flatMap(\.values).filter(\.isFinite), model.parameters.entryCount)
            }
            return GoldenTolerance(.rounding, budget: budget, reason: probedReason(chain: chain, condition: condition)
                                   + "; \(iterations) iterations: the horizon over which training's own amplification of rounding stays below the budget")
        }
    }
}
