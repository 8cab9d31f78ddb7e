import Foundation

/// One entry of the corpus as code: its name, layer and inputs, and how to compute its values and
/// the tolerance they are held to. `biornn golden record` runs `measure` and writes the entry;
/// `golden check` runs it again and compares.
public struct GoldenCase: Sendable {
    public let name: String
    public let layer: String
    public let inputs: JSONValue
    public let measure: @Sendable () throws -> (values: [(key: String, values: [Double])], tolerance: GoldenTolerance)

    /// The entry this computation gives now.
    public func entry(provenance: GoldenProvenance) throws -> GoldenEntry {
        let (values, tolerance) = try measure()
        return GoldenEntry(name: name, layer: layer, inputs: inputs, values: values, tolerance: tolerance, provenance: provenance)
    }
}

/// Every case of the corpus, layer by layer, in the order the files list them.
public enum GoldenCases {
    public static var all: [GoldenCase] { rng + tasks + connectivity + forward }

    public static let layers = ["rng", "tasks", "connectivity", "forward"]

    // MARK: random streams

    /// The first draws of a few named streams. Uniforms are exact: 53 bits of xoshiro256** output
    /// times 2⁻⁵³. Normals (Box–Muller, z = √(−2 ln u₁)·cos(2πu₂)) go through glibc's log and
    /// cos, each within 1 ulp, so they are held to a rounding budget rather than bits: with
    /// ρ = √(−2 ln u₁) ≤ 8.6 (u₁ ≥ 2⁻⁵³), the argument 2πu₂ carries 2 roundings (absolute ≤ 4πu),
    /// cos 1 ulp, ln, the square root and the two products about 3 relative roundings, so
    /// |Δz| ≤ ρ·(4π + 1)·u + 3|z|·u ≤ 8.6·(4π + 4)·u ≈ 1.6e-14.
    static var rng: [GoldenCase] {
        let streams: [(UInt64, StreamPurpose)] = [(1, .network), (1, .data), (42, .feedback), (7, .heldout)]
        return streams.flatMap { seed, purpose -> [GoldenCase] in
            let inputs = JSONValue.object([("seed", .number(Double(seed))), ("purpose", .string(purpose.rawValue)), ("draws", .number(8))])
            return [
                GoldenCase(name: "rng/\(purpose.rawValue)/seed\(seed)/uniform", layer: "rng", inputs: inputs) {
                    var s = RandomStream(seed: seed, purpose: purpose)
                    return ([("uniform", (0..<8).map { _ in s.uniform() })],
                            GoldenTolerance(.exact, reason: "53 bits of xoshiro256** output times 2⁻⁵³: no rounding anywhere"))
                },
                GoldenCase(name: "rng/\(purpose.rawValue)/seed\(seed)/normal", layer: "rng", inputs: inputs) {
                    var s = RandomStream(seed: seed, purpose: purpose)
                    let u = RoundingBounds.unitRoundoff
                    return ([("normal", (0..<8).map { _ in s.normal() })],
                            GoldenTolerance(.rounding, budget: 8.6 * (4 * Double.pi + 4) * u,
                                            reason: "Box–Muller through glibc's log and cos (1 ulp each): |Δz| ≤ ρ(4π + 1)u + 3|z|u ≤ 8.6(4π + 4)u"))
                },
            ]
        }
    }

    // MARK: tasks

    /// Every task's batch of 16 trials from the data stream of seed 5: the users' data, so
    /// bitwise. Sixteen, so that every condition a task draws from a handful (coherences,
    /// contexts, match or non-match) appears: with 3 trials a changed coherence went unseen.
    static var tasks: [GoldenCase] {
        TaskRegistry.all.map { task in
            let inputs = JSONValue.object([("task", .string(task.name)), ("trials", .number(16)), ("seed", .number(5)), ("purpose", .string("data")),
                                           ("layout", .string("inputs [T][B][I], targets [T][B][O] or labels [T][B], mask [T][B], flattened"))])
            return GoldenCase(name: "tasks/\(task.name)", layer: "tasks", inputs: inputs) {
                var rng = RandomStream(seed: 5, purpose: .data)
                let b = task.sample(trials: 16, using: &rng)
                var values: [(String, [Double])] = [("inputs", b.inputs)]
                if let t = b.targets { values.append(("targets", t)) }
                if let l = b.labels { values.append(("labels", l.map(Double.init))) }
                values.append(("mask", b.mask))
                return (values, GoldenTolerance(.exact, reason: "a task's trials are the users' data: any change is a different task (its noise draws pin glibc's log and cos too)"))
            }
        }
    }

    // MARK: initial connectivity

    /// W_rec of each family at N = 5 and 12, g = 0.5 and 2, from the network stream of seed 3.
    /// (Dale networks are scaled by a LAPACK spectral radius, whose rounding depends on the
    /// eigenvalue's condition; they are not in the corpus yet.)
    static var connectivity: [GoldenCase] {
        var out: [GoldenCase] = []
        for family in ["gaussian", "sparse", "orthogonal"] {
            for n in [5, 12] {
                for g in [0.5, 2.0] {
                    let inputs = JSONValue.object([("family", .string(family)), ("units", .number(Double(n))), ("gain", .number(g)),
                                                   ("seed", .number(3)), ("purpose", .string("network")), ("layout", .string("w_rec row-major, N×N"))])
                    out.append(GoldenCase(name: "connectivity/\(family)/n\(n)/g\(JSONValue.format(g))", layer: "connectivity", inputs: inputs) {
                        var rng = RandomStream(seed: 3, purpose: .network)
                        let c = try Connectivity.named(family, gain: g)
                        let w = c.recurrentWeights(units: n, using: &rng).weights
                        return ([("w_rec", w.storage)], connectivityTolerance(family: family, gain: g, w: w, n: n, seed: 3))
                    })
                }
            }
        }
        return out
    }

    /// The budget of a family's weights. Gaussian and sparse weights are one normal draw times one
    /// scale each; orthogonal weights come from a Householder QR of the same seed's Gaussian A.
    static func connectivityTolerance(family: String, gain g: Double, w: Matrix, n: Int, seed: UInt64) -> GoldenTolerance {
        let u = RoundingBounds.unitRoundoff
        let normal = 8.6 * (4 * Double.pi + 4) * u      // one normal draw's budget (see `rng`)
        switch family {
        case "gaussian", "sparse":
            let scale = family == "gaussian" ? g / Double(n).squareRoot() : g / (0.1 * Double(n)).squareRoot()
            return GoldenTolerance(.rounding, budget: scale * normal + 2 * u * w.maxAbs,
                                   reason: "each weight is one normal draw times its scale (g/√N, or g/√(pN) where the exact Bernoulli mask keeps it): the draw's budget times the scale, plus 2 roundings")
        default:
            var rng = RandomStream(seed: seed, purpose: .network)
            let r = Matrix.randomNormal(rows: n, cols: n, sd: 1, using: &rng).qr.r
            let kappa = RoundingBounds.frobeniusCondition(upperTriangular: r)
            return GoldenTolerance(.rounding, budget: g * kappa * (RoundingBounds.householderQRBackward(rows: n, cols: n) + normal),
                                   reason: "g·Q from a Householder QR of a Gaussian A: backward error ‖ΔA‖_F ≤ γ_{10N²}‖A‖_F (Higham, Thm 19.4, with the constant the tests use) plus the draws' own budget, and Q moves by at most κ_F(A) times that relative perturbation to first order; κ_F(A) = κ_F(R) from the computed R")
        }
    }

    // MARK: forward trajectories

    /// Forward passes of small fixed networks, one per activation (Gaussian g = 1.5, α = 0.3) and a
    /// Dale/relu network, on 3 trials of 12 steps of Gaussian inputs: every state a_t and output
    /// y_t. Held to a running error bound computed along the trajectory itself (`forwardBudget`).
    static var forward: [GoldenCase] {
        let networks: [(String, Activation, Connectivity)] = Activation.allCases.map { ("gaussian-\($0.rawValue)", $0, Connectivity.gaussian(gain: 1.5)) }
            + [("dale-relu", .relu, .dale(gain: 1.5))]
        return networks.map { label, activation, connectivity in
            let model = RNN.initial(units: 6, inputs: 2, outputs: 2, alpha: 0.3, activation: activation, connectivity: connectivity, seed: 11)
            var rng = RandomStream(seed: 11, purpose: .data)
            let batch = Batch(steps: 12, trials: 3, inputSize: 2, inputs: (0..<(12 * 3 * 2)).map { _ in rng.normal() },
                              targets: Array(repeating: 0, count: 12 * 3 * 2), targetSize: 2, labels: nil, mask: Array(repeating: 1, count: 12 * 3))
            let inputs = JSONValue.object([("model", model.json), ("batch", batch.json),
                                           ("layout", .string("a: (T+1)·B×N time-major (row t·B + b; t = 0 is h0); y: T·B×O time-major"))])
            return GoldenCase(name: "forward/\(label)", layer: "forward", inputs: inputs) {
                let tr = model.run(batch)
                return ([("a", tr.a), ("y", tr.y)],
                        GoldenTolerance(.rounding, budget: forwardBudget(model, batch, tr),
                                        reason: "running first-order error bound along the trajectory: e_t = (1−α)e_{t−1} + α|W_rec|(e_{t−1} + 4u|r_{t−1}|) + γ_{N+I+3}((1−α)|a_{t−1}| + α(|W_rec||r_{t−1}| + |W_in||x_t| + |b_rec|)), |φ'| ≤ 1, φ within 4 ulp; y adds |W_out|(e + 4u|r|) + γ_{N+1}(|W_out||r| + |b_out|); the budget is the largest bound"))
            }
        }
    }

    /// The largest componentwise first-order error bound of a forward pass (see `forward`).
    static func forwardBudget(_ model: RNN, _ batch: Batch, _ tr: Trajectory) -> Double {
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        let p = model.parameters, alpha = model.alpha, u = RoundingBounds.unitRoundoff
        let gState = RoundingBounds.gamma(N + I + 3), gOut = RoundingBounds.gamma(N + 1)
        var worst = 0.0
        for b in 0..<B {
            var e = [Double](repeating: 0, count: N)
            for t in 1...T {
                let prev = (t - 1) * B + b, cur = t * B + b
                var next = [Double](repeating: 0, count: N)
                for j in 0..<N {
                    var propagated = 0.0, magnitude = abs(p.bRec[j])
                    for k in 0..<N {
                        let w = abs(p.wRec[j, k]), r = abs(tr.r[prev * N + k])
                        propagated += w * (e[k] + 4 * u * r)
                        magnitude += w * r
                    }
                    for i in 0..<I { magnitude += abs(p.wIn[j, i]) * abs(batch.inputs[((t - 1) * B + b) * I + i]) }
                    next[j] = (1 - alpha) * e[j] + alpha * propagated
                        + gState * ((1 - alpha) * abs(tr.a[prev * N + j]) + alpha * magnitude)
                    worst = max(worst, next[j])
                }
                e = next
                for o in 0..<O {
                    var bound = gOut * abs(p.bOut[o])
                    for k in 0..<N {
                        let w = abs(p.wOut[o, k]), r = abs(tr.r[cur * N + k])
                        bound += w * (e[k] + 4 * u * r) + gOut * w * r
                    }
                    worst = max(worst, bound)
                }
            }
        }
        return worst
    }
}
