import Foundation

/// One entry of the corpus as code: its name, layer and inputs, how to compute its values, and
/// the tolerance they are held to. `biornn golden record` computes both and writes the entry;
/// `golden check` recomputes only the values and holds them to the recorded tolerance (a budget
/// may cost more than the values: the probed ones rerun the computation on perturbed inputs).
public struct GoldenCase: Sendable {
    public typealias Values = [(key: String, values: [Double])]
    public let name: String
    public let layer: String
    public let inputs: JSONValue
    public let compute: @Sendable () throws -> Values
    public let tolerance: @Sendable (Values) throws -> GoldenTolerance

    public init(name: String, layer: String, inputs: JSONValue, compute: @escaping @Sendable () throws -> Values,
                tolerance: @escaping @Sendable (Values) throws -> GoldenTolerance) {
        (self.name, self.layer, self.inputs, self.compute, self.tolerance) = (name, layer, inputs, compute, tolerance)
    }

    /// A case whose tolerance does not depend on its values.
    init(name: String, layer: String, inputs: JSONValue, tolerance: GoldenTolerance, compute: @escaping @Sendable () throws -> Values) {
        self.init(name: name, layer: layer, inputs: inputs, compute: compute, tolerance: { _ in tolerance })
    }

    /// The entry this computation gives now, values and tolerance.
    public func entry(provenance: GoldenProvenance) throws -> GoldenEntry {
        let values = try compute()
        if let bad = values.first(where: { !$0.values.allSatisfy(\.isFinite) }) {
            throw InputError("\(name): \(bad.key) holds a value that is not finite, which JSON cannot store")
        }
        return GoldenEntry(name: name, layer: layer, inputs: inputs, values: values, tolerance: try tolerance(values), provenance: provenance)
    }
}

/// Every case of the corpus, layer by layer, in the order the files list them.
public enum GoldenCases {
    /// `corpus` is the corpus directory, whose stored run summaries (`study-runs`) the study
    /// layer's statistics are computed from.
    public static func all(corpus: String) -> [GoldenCase] {
        rng + tasks + connectivity + forward + gradients + lyapunovShort + lyapunovLong + flossingGradients + flossingTrajectory
            + training + study(corpus: corpus)
    }

    public static let layers = ["rng", "tasks", "connectivity", "forward", "gradients", "lyapunov", "flossing", "training", "study"]

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
                GoldenCase(name: "rng/\(purpose.rawValue)/seed\(seed)/uniform", layer: "rng", inputs: inputs,
                           tolerance: GoldenTolerance(.exact, reason: "53 bits of xoshiro256** output times 2⁻⁵³: no rounding anywhere")) {
                    var s = RandomStream(seed: seed, purpose: purpose)
                    return [("uniform", (0..<8).map { _ in s.uniform() })]
                },
                GoldenCase(name: "rng/\(purpose.rawValue)/seed\(seed)/normal", layer: "rng", inputs: inputs,
                           tolerance: GoldenTolerance(.rounding, budget: GoldenBudgets.normalDraw,
                                                      reason: "Box–Muller through glibc's log and cos (1 ulp each): |Δz| ≤ ρ(4π + 1)u + 3|z|u ≤ 8.6(4π + 4)u")) {
                    var s = RandomStream(seed: seed, purpose: purpose)
                    return [("normal", (0..<8).map { _ in s.normal() })]
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
            return GoldenCase(name: "tasks/\(task.name)", layer: "tasks", inputs: inputs,
                              tolerance: GoldenTolerance(.exact, reason: "a task's trials are the users' data: any change is a different task (its noise draws pin glibc's log and cos too)")) {
                var rng = RandomStream(seed: 5, purpose: .data)
                let b = task.sample(trials: 16, using: &rng)
                var values: [(String, [Double])] = [("inputs", b.inputs)]
                if let t = b.targets { values.append(("targets", t)) }
                if let l = b.labels { values.append(("labels", l.map(Double.init))) }
                values.append(("mask", b.mask))
                return values
            }
        }
    }

    // MARK: initial connectivity

    /// W_rec of each family at N = 5 and 12, g = 0.5 and 2, from the network stream of seed 3.
    static var connectivity: [GoldenCase] {
        var out: [GoldenCase] = []
        for family in ["gaussian", "sparse", "orthogonal", "dale"] {
            for n in [5, 12] {
                for g in [0.5, 2.0] {
                    let inputs = JSONValue.object([("family", .string(family)), ("units", .number(Double(n))), ("gain", .number(g)),
                                                   ("seed", .number(3)), ("purpose", .string("network")), ("layout", .string("w_rec row-major, N×N"))])
                    out.append(GoldenCase(name: "connectivity/\(family)/n\(n)/g\(JSONValue.format(g))", layer: "connectivity", inputs: inputs,
                                          compute: {
                                              var rng = RandomStream(seed: 3, purpose: .network)
                                              let c = try Connectivity.named(family, gain: g)
                                              return [("w_rec", c.recurrentWeights(units: n, using: &rng).weights.storage)]
                                          },
                                          tolerance: { values in
                                              GoldenBudgets.connectivity(family: family, gain: g, maxAbs: values[0].values.map(abs).max() ?? 0, n: n, seed: 3)
                                          }))
                }
            }
        }
        return out
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
            return GoldenCase(name: "forward/\(label)", layer: "forward", inputs: inputs,
                              compute: { let tr = model.run(batch); return [("a", tr.a), ("y", tr.y)] }) { _ in
                GoldenTolerance(.rounding, budget: GoldenBudgets.forward(model, batch, model.run(batch)),
                                        reason: "running first-order error bound along the trajectory: e_t = (1−α)e_{t−1} + α|W_rec|(e_{t−1} + 4u|r_{t−1}|) + γ_{N+I+3}((1−α)|a_{t−1}| + α(|W_rec||r_{t−1}| + |W_in||x_t| + |b_rec|)), |φ'| ≤ 1, φ within 4 ulp; y adds |W_out|(e + 4u|r|) + γ_{N+1}(|W_out||r| + |b_out|); the budget is the largest bound")
            }
        }
    }
}
