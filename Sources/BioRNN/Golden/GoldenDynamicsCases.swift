import Foundation

extension GoldenCases {
    // MARK: Lyapunov spectra

    /// The fixed networks of the Lyapunov and flossing layers, N = 16, seed 17: a chaotic tanh
    /// network (g = 2, α = 1: λ_1 ≈ +0.09, λ_2 ≈ +0.02 per step), the same driven by a fixed
    /// input sequence (which suppresses the chaos: λ_1 ≈ −0.003), and a contracting linear map (g = 0.9, α = 0.5: λ_1 ≈ −0.022), whose
    /// exponents are log|eig((1 − α)I + αW_rec)| in closed form. (Smaller or slower tanh
    /// networks at these gains settle on fixed points or cycles: N = 8, g = 3, α = 0.5 has
    /// λ_1 ≈ −0.5.)
    static func dynamicsMap(_ label: String) -> RNNMap {
        let linear = label == "linear"
        let model = RNN.initial(units: 16, inputs: 2, outputs: 1, alpha: linear ? 0.5 : 1, activation: linear ? .linear : .tanh,
                                connectivity: .gaussian(gain: linear ? 0.9 : 2), seed: 17)
        guard label == "driven" else { return RNNMap(model) }
        var rng = RandomStream(seed: 17, purpose: .data)
        return RNNMap(model, inputs: Matrix(rows: 25, cols: 2, storage: (0..<50).map { _ in rng.normal() }))
    }

    static let dynamicsLabels = ["chaotic", "driven", "linear"]

    /// One estimate by a named method: "qr" (k = N), "qr-k2", "tangent" or "twin".
    static func lyapunov(_ method: String, _ map: RNNMap, _ options: LyapunovOptions) throws -> LyapunovResult {
        switch method {
        case "qr": return try Lyapunov.spectrum(of: map, k: map.dimension, options: options)
        case "qr-k2": return try Lyapunov.spectrum(of: map, k: 2, options: options)
        case "tangent": return try Lyapunov.maximalExponent(of: map, options: options)
        default: return try Lyapunov.twinExponent(of: map, options: options)
        }
    }

    static let lyapunovMethods = ["qr", "qr-k2", "tangent", "twin"]

    static func mapInputs(_ map: RNNMap, _ options: LyapunovOptions, method: String) -> JSONValue {
        .object([("method", .string(method)), ("model", map.model.json),
                 ("drive", map.inputs.rows > 0 ? JSONValue(map.inputs.storage) : .null),
                 ("transient", .number(Double(options.transient))), ("steps", .number(Double(options.steps))),
                 ("blocks", .number(Double(options.blocks))), ("initial_condition_seed", .number(Double(options.initialConditionSeed))),
                 ("orthonormal_seed", .number(Double(options.orthonormalSeed))), ("twin_separation", .number(options.twinSeparation))])
    }

    /// Short horizon (10 transient + 20 measured steps): every method on every map, the
    /// exponents and their block standard errors, held to a rounding budget. Over a horizon T
    /// rounding grows like e^{λT} in a chaotic network; the probed condition measures exactly that
    /// growth (and the QR factorisations' conditioning) on these inputs, with K = T(N + 10k + 8).
    /// The twin method adds its own cancellation: each step's two states carry ≤ e_step of
    /// rounding (the forward bound), so d = ‖x′ − x‖ carries 2√N·e_step and log d moves by
    /// 2√N·e_step/d_t; averaged over the steps with the d_t of the run itself.
    static var lyapunovShort: [GoldenCase] {
        let options = { var o = LyapunovOptions(transient: 10, steps: 20); o.blocks = 5; return o }()
        return dynamicsLabels.flatMap { label in
            lyapunovMethods.map { method in
                GoldenCase(name: "lyapunov/short/\(label)/\(method)", layer: "lyapunov", inputs: mapInputs(dynamicsMap(label), options, method: method),
                           compute: {
                               let r = try lyapunov(method, dynamicsMap(label), options)
                               return [("exponents", r.exponents), ("standard_errors", r.standardErrors)]
                           }) { values in
                    let map = dynamicsMap(label)
                    let k = method == "qr" ? map.dimension : method == "qr-k2" ? 2 : 1
                    let total = options.transient + options.steps
                    let chain = total * (map.dimension + 10 * k + 8)
                    let (probed, condition) = try GoldenBudgets.probed(chain: chain, steps: total, values: values.flatMap(\.values)) { delta, xi in
                        var model = map.model
                        model.parameters = model.parameters.probed(delta, using: &xi)
                        let r = try lyapunov(method, RNNMap(model, inputs: map.inputs.rows > 0 ? map.inputs : nil), options)
                        return (r.exponents + r.standardErrors, model.parameters.entryCount)
                    }
                    guard method == "twin" else {
                        return GoldenTolerance(.rounding, budget: probed, reason: probedReason(chain: chain, condition: condition))
                    }
                    // A block estimate averages T/blocks steps, so its cancellation is up to blocks
                    // times the whole run's; the standard error is a spread of block estimates.
                    let cancellation = GoldenBudgets.twinCancellation(map, options) * Double(options.blocks)
                    return GoldenTolerance(.rounding, budget: probed + cancellation, reason: probedReason(chain: chain, condition: condition)
                                           + "; plus the twin's cancellation blocks·(1/T)·Σ_t 2√N·e_step/d_t = \(String(format: "%.2e", cancellation)) (a block averages T/blocks steps)")
                }
            }
        }
    }

    /// Long horizon (200 transient + 4000 measured steps, 20 blocks): the same estimates,
    /// statistical. Rounding makes a chaotic trajectory a different one after a few hundred
    /// steps, so a recomputation is another draw of the estimator: two draws differ by √2 standard
    /// errors' worth of spread, and with 20 blocks (19 degrees of freedom) a difference beyond 7
    /// recorded standard errors (4.9 of the difference's) happens by chance about once in 10⁴.
    static var lyapunovLong: [GoldenCase] {
        let options = { var o = LyapunovOptions(transient: 200, steps: 4000); o.blocks = 20; return o }()
        let tolerance = GoldenTolerance(.statistical, budget: 7, reason: "a chaotic trajectory is changed by rounding within a few hundred steps: the recomputation is another draw of the estimator, held within 7 recorded standard errors (19 degrees of freedom, two draws: chance ≈ 10⁻⁴ per value)")
        return dynamicsLabels.flatMap { label in
            lyapunovMethods.map { method in
                GoldenCase(name: "lyapunov/long/\(label)/\(method)", layer: "lyapunov", inputs: mapInputs(dynamicsMap(label), options, method: method),
                           tolerance: tolerance) {
                    let r = try lyapunov(method, dynamicsMap(label), options)
                    return [("exponents", r.exponents), ("exponents_stderr", r.standardErrors)]
                }
            }
        }
    }

    // MARK: flossing

    /// One flossing gradient of each mode on the chaotic map's window (k = 2, 5 transient and 10
    /// window steps, target 0): the loss, the window's exponents and every tensor's gradient.
    /// Probed budget, K = (T0 + Tf)(N + 10k + 8) + Tf(20Nk): the window and its adjoint pass.
    static var flossingGradients: [GoldenCase] {
        FlossMode.allCases.map { mode in
            let model = dynamicsMap("chaotic").model
            let inputs = JSONValue.object([("mode", .string(mode.rawValue)), ("model", model.json), ("k", .number(2)), ("transient", .number(5)),
                                           ("window", .number(10)), ("target", .number(0)), ("initial_condition_seed", .number(3)),
                                           ("orthonormal_seed", .number(4))])
            @Sendable func values(_ model: RNN) throws -> GoldenCase.Values {
                let window = try FlossingWindow.record(RNNMap(model), k: 2, transient: 5, window: 10, initialConditionSeed: 3, orthonormalSeed: 4)
                let g = window.gradient(mode: mode, target: 0)
                return [("loss", [window.loss(target: 0)]), ("exponents", window.exponents)] + Parameters.tensors.map { ($0.name, g[keyPath: $0.path]) }
            }
            let n = model.units, chain = 15 * (n + 20 + 8) + 10 * 20 * n * 2
            return GoldenCase(name: "flossing/gradient/\(mode.rawValue)", layer: "flossing", inputs: inputs, compute: { try values(model) }) { recorded in
                let (budget, condition) = try GoldenBudgets.probed(chain: chain, steps: 15, values: recorded.flatMap(\.values)) { delta, xi in
                    var moved = model
                    moved.parameters = model.parameters.probed(delta, using: &xi)
                    return (try values(moved).flatMap(\.values), model.parameters.entryCount)
                }
                return GoldenTolerance(.rounding, budget: budget, reason: probedReason(chain: chain, condition: condition))
            }
        }
    }

    /// Ten local-flossing steps of the chaotic network (k = 1, 10 transient + 20 window steps,
    /// learning rate 0.01, flossing seed 5): the loss and λ_1 of every step, and the final W_rec.
    /// Probed budget with K = 10 × the window's chain + 30 for each Adam step.
    static var flossingTrajectory: [GoldenCase] {
        let model = dynamicsMap("chaotic").model
        let config = { var c = FlossingConfig(mode: .local); (c.k, c.transient, c.window, c.learningRate) = (1, 10, 20, 0.01); return c }()
        let inputs = JSONValue.object([("model", model.json), ("floss", .string(config.specification)), ("seed", .number(5)), ("steps", .number(10))])
        @Sendable func values(_ start: RNN) throws -> GoldenCase.Values {
            var model = start
            var flosser = Flosser(config, seed: 5)
            try flosser.floss(&model, steps: 10)
            return [("loss", flosser.history.map(\.loss)), ("lambda_1", flosser.history.map { $0.exponents[0] }), ("w_rec", model.parameters.wRec.storage)]
        }
        let n = model.units, chain = 10 * (30 * (n + 10 + 8) + 20 * 20 * n + 30)
        return [GoldenCase(name: "flossing/trajectory/local", layer: "flossing", inputs: inputs, compute: { try values(model) }) { recorded in
            let (budget, condition) = try GoldenBudgets.probed(chain: chain, steps: 300, values: recorded.flatMap(\.values)) { delta, xi in
                var moved = model
                moved.parameters = model.parameters.probed(delta, using: &xi)
                return (try values(moved).flatMap(\.values), model.parameters.entryCount)
            }
            return GoldenTolerance(.rounding, budget: budget, reason: probedReason(chain: chain, condition: condition))
        }]
    }
}

extension GoldenBudgets {
    /// The twin method's cancellation term: (1/T)·Σ_t 2√N·e_step/d_t, where e_step bounds one
    /// step's rounding of a state (γ_{N+I+3} times the magnitudes it sums, as in ``forward(_:_:_:)``)
    /// and d_t is the separation the run itself measures before each pull-back.
    static func twinCancellation(_ map: RNNMap, _ options: LyapunovOptions) -> Double {
        let n = map.dimension, p = map.model.parameters, alpha = map.model.alpha
        let gamma = RoundingBounds.gamma(n + map.model.inputs + 3)
        var rng = RandomStream(seed: options.initialConditionSeed, purpose: .initialCondition)
        var x = map.initialState(using: &rng)
        for t in 0..<options.transient { map.step(&x, time: t) }
        var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
        let v = (0..<n).map { _ in orng.normal() }, vn = euclideanNorm(v)
        var twin = (0..<n).map { x[$0] + options.twinSeparation * v[$0] / vn }
        var sum = 0.0
        for s in 0..<options.steps {
            let t = options.transient + s
            let row = map.inputs.rows > 0 ? t % map.inputs.rows : nil
            var magnitude = 0.0
            for j in 0..<n {
                var m = (1 - alpha) * abs(x[j]) + alpha * abs(p.bRec[j])
                for k in 0..<n { m += alpha * abs(p.wRec[j, k]) * abs(map.model.activation(x[k])) }
                if let row { for i in 0..<map.inputs.cols { m += alpha * abs(p.wIn[j, i] * map.inputs[row, i]) } }
                magnitude = max(magnitude, m)
            }
            map.step(&twin, time: t)
            map.step(&x, time: t)
            let diff = (0..<n).map { twin[$0] - x[$0] }, d = euclideanNorm(diff)
            sum += 2 * Double(n).squareRoot() * gamma * magnitude / d
            twin = (0..<n).map { x[$0] + options.twinSeparation * diff[$0] / d }
        }
        return sum / Double(options.steps)
    }
}
