import BioRNN
import BioRNNConformance
import BioRNNTesting
import Foundation
import PropertyBased
import Testing

/// max |a − b| / ‖b‖ per tensor (0 when both vanish).
func relativeError(_ a: Parameters, _ b: Parameters, _ path: KeyPath<Parameters, [Double]>) -> Double {
    let (x, y) = (a[keyPath: path], b[keyPath: path])
    let worst = zip(x, y).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
    return worst == 0 ? 0 : worst / max(euclideanNorm(y), 1e-300)
}

/// Both sides compute the same sums over ≤ T·B·N terms in different orders; 1e-10 relative to
/// the tensor's norm is the LearningRules article's bound and leaves ~10⁵ ulps for that.
let exactTolerance = 1e-10

@Suite("Local rules: e-prop, RFLO, ModProp, RTRL")
struct LocalRuleTests {
    @Test("e-prop (online) equals stop-gradient BPTT to 1e-10 for every tensor")
    func epropEqualsStopGradientBPTT() async {
        await propertyCheck(count: 100, input: smallNetworks) { c in
            let (e, sg) = (EProp().gradient(of: c.model, on: c.batch), StopGradientBPTT().gradient(of: c.model, on: c.batch))
            for (name, path) in Parameters.tensors { #expect(relativeError(e.gradients, sg.gradients, path) <= exactTolerance, "\(name)") }
        }
    }

    /// e-prop runs its rows in chunks of 128 (one block of the W_rec product), carrying r̄ of the last
    /// B rows from chunk to chunk; the small networks above fit in one chunk. These sizes put chunk
    /// boundaries inside a step (B = 50, 3), make B larger than a chunk (130), and take the product
    /// past the in-place kernel's limit (N = 600, OpenBLAS per chunk).
    @Test("e-prop over many chunks of rows equals stop-gradient BPTT to 1e-10 for every tensor",
          arguments: [(units: 5, steps: 7, trials: 50), (units: 40, steps: 3, trials: 130), (units: 17, steps: 90, trials: 3),
                      (units: 600, steps: 2, trials: 70)])
    func epropAcrossChunks(size: (units: Int, steps: Int, trials: Int)) {
        for (seed, activation) in [(UInt64(11), Activation.tanh), (12, .softplus)] {
            let c = RandomNetworkCase(seed: seed, units: size.units, inputs: 2, outputs: 3, steps: size.steps, trials: size.trials,
                                      alpha: 0.3, activation: activation, loss: .mse)
            let (e, sg) = (EProp().gradient(of: c.model, on: c.batch), StopGradientBPTT().gradient(of: c.model, on: c.batch))
            for (name, path) in Parameters.tensors { #expect(relativeError(e.gradients, sg.gradients, path) <= exactTolerance, "\(name) \(c)") }
        }
    }

    @Test("with W_rec = 0, e-prop equals exact BPTT to 1e-10 for every tensor")
    func epropExactWithoutRecurrence() async {
        await propertyCheck(count: 100, input: smallNetworks) { c in
            var model = c.model
            model.parameters.wRec = Matrix(rows: c.units, cols: c.units)
            let (e, b) = (EProp().gradient(of: model, on: c.batch), BPTT().gradient(of: model, on: c.batch))
            for (name, path) in Parameters.tensors { #expect(relativeError(e.gradients, b.gradients, path) <= exactTolerance, "\(name)") }
        }
    }

    @Test("the readout gradient of every local rule equals BPTT's")
    func readoutIsExact() async {
        await propertyCheck(count: 60, input: smallNetworks) { c in
            let model = c.model
            let feedback = EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: c.seed)
            let exact = BPTT().gradient(of: model, on: c.batch).gradients
            let rules: [any LearningRule] = [EProp(), EProp(feedback: .fixed(feedback)), RFLO(feedback: feedback), TruncatedBPTT(truncation: 1)]
            for rule in rules {
                let g = rule.gradient(of: model, on: c.batch).gradients
                #expect(relativeError(g, exact, \.wOut.storage) <= exactTolerance && relativeError(g, exact, \.bOut) <= exactTolerance, "\(rule.name)")
            }
        }
    }

    @Test("e-prop-random with B = W_outᵀ equals e-prop; RFLO equals e-prop-random for the same B")
    func feedbackReductions() async {
        await propertyCheck(count: 60, input: smallNetworks) { c in
            let model = c.model
            let symmetric = EProp().gradient(of: model, on: c.batch).gradients
            let aligned = EProp(feedback: .fixed(model.parameters.wOut.transposed)).gradient(of: model, on: c.batch).gradients
            let b = EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: c.seed)
            let random = EProp(feedback: .fixed(b)).gradient(of: model, on: c.batch).gradients
            let rflo = RFLO(feedback: b).gradient(of: model, on: c.batch).gradients
            for (name, path) in Parameters.tensors {
                #expect(relativeError(aligned, symmetric, path) <= exactTolerance, "B = W_outᵀ: \(name)")
                // RFLO keeps one trace per synapse; in this current-based model each equals r̄.
                #expect(relativeError(rflo, random, path) <= exactTolerance, "RFLO: \(name)")
            }
        }
    }

    @Test("RTRL equals BPTT to 1e-10")
    func rtrlEqualsBPTT() async {
        await propertyCheck(count: 60, input: smallNetworks) { c in
            let (r, b) = (RTRL().gradient(of: c.model, on: c.batch), BPTT().gradient(of: c.model, on: c.batch))
            for (name, path) in Parameters.tensors { #expect(relativeError(r.gradients, b.gradients, path) <= exactTolerance, "\(name)") }
        }
    }

    @Test("tbptt:1 equals e-prop when α = 1 for every tensor but h0; for h0 they differ by exactly W_recᵀ-routed credit")
    func truncationOneIsEPropAtAlphaOne() async {
        // h0 reaches a_1 = W_rec·φ(h0) + … only through the recurrent path at α = 1. e-prop cuts
        // that path (its h0 trace is (1 − α)^t = 0); a one-step window keeps it, as it must for
        // tbptt:K with K ≥ T to be exact in h0. So for h0 the relation is: e-prop gives 0, and
        // tbptt:1 gives Σ_b (W_recᵀ·l_1) ⊙ φ'(h0), l_1 = (W_outᵀ G_1) ⊙ φ'(a_1).
        await propertyCheck(count: 60, input: smallNetworks) { c0 in
            let c = RandomNetworkCase(seed: c0.seed, units: c0.units, inputs: c0.inputs, outputs: c0.outputs, steps: c0.steps,
                                      trials: c0.trials, alpha: 1, activation: c0.activation, loss: c0.loss)
            let (model, batch) = (c.model, c.batch)
            let (t, e) = (TruncatedBPTT(truncation: 1).gradient(of: model, on: batch), EProp().gradient(of: model, on: batch))
            for (name, path) in Parameters.tensors where name != "h0" {
                #expect(relativeError(t.gradients, e.gradients, path) <= exactTolerance, "\(name)")
            }
            #expect(e.gradients.h0.allSatisfy { $0 == 0 })
            let tr = model.run(batch)
            let g = lossAndOutputGradient(tr, batch).gradient
            var expected = [Double](repeating: 0, count: c.units)
            for b in 0..<c.trials {
                let signal = model.parameters.wOut.times(Array(g[(b * model.outputs)..<((b + 1) * model.outputs)]), .transposed)
                let l1 = (0..<c.units).map { signal[$0] * model.activation.derivative(tr.a[(c.trials + b) * c.units + $0]) }
                let back = model.parameters.wRec.times(l1, .transposed)
                for j in 0..<c.units { expected[j] += back[j] * model.activation.derivative(model.parameters.h0[j]) }
            }
            let scale = max(euclideanNorm(expected), 1e-300)
            #expect(zip(t.gradients.h0, expected).allSatisfy { abs($0 - $1) <= exactTolerance * scale })
        }
    }

    @Test("rules from the registry: names, RTRL's size limit, ModProp's Dale/relu requirement")
    func registry() throws {
        let small = RandomNetworkCase(seed: 1, units: 4, inputs: 1, outputs: 2, steps: 3, trials: 1, alpha: 0.5, activation: .tanh, loss: .xent).model
        for name in ["bptt", "rtrl", "tbptt:3", "eprop", "eprop-random", "rflo"] {
            #expect(try RuleRegistry.rule(named: name, model: small, seed: 1).name == name)
        }
        let big = RNN.initial(units: 33, inputs: 1, outputs: 2, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 1), seed: 1)
        #expect(throws: InputError("rule: rtrl is limited to 32 units (its cost grows as N⁴ per step); the model has 33")) {
            try RuleRegistry.rule(named: "rtrl", model: big, seed: 1)
        }
        #expect(throws: InputError("rule: modprop requires a Dale network (dale_signs, e.g. --init dale) with relu activation")) {
            try RuleRegistry.rule(named: "modprop", model: small, seed: 1)
        }
        // modprop:μ sets ModProp's constant derivative; plain modprop is μ = 0.5.
        let dale = RNN.initial(units: 8, inputs: 1, outputs: 2, alpha: 0.5, activation: .relu, connectivity: try Connectivity.named("dale", gain: 1), seed: 1)
        let tuned = try #require(try RuleRegistry.rule(named: "modprop:0.2", model: dale, seed: 1) as? ModProp)
        #expect(tuned.mu == 0.2 && tuned.name == "modprop:0.2")
        #expect(try (RuleRegistry.rule(named: "modprop", model: dale, seed: 1) as? ModProp)?.mu == 0.5)
        #expect(try RuleRegistry.requirement(of: "modprop:0.2") == ModProp.requirement)
        #expect(throws: InputError("rule: 'modprop:x': the μ of modprop:μ must be a number ≥ 0")) { try RuleRegistry.requirement(of: "modprop:x") }
        // Random feedback depends on the seed only.
        let f1 = try RuleRegistry.rule(named: "eprop-random", model: small, seed: 5).gradient(of: small, on: RandomNetworkCase(seed: 1, units: 4, inputs: 1, outputs: 2, steps: 3, trials: 1, alpha: 0.5, activation: .tanh, loss: .xent).batch)
        let f2 = try RuleRegistry.rule(named: "eprop-random", model: small, seed: 5).gradient(of: small, on: RandomNetworkCase(seed: 1, units: 4, inputs: 1, outputs: 2, steps: 3, trials: 1, alpha: 0.5, activation: .tanh, loss: .xent).batch)
        #expect(f1.gradients == f2.gradients)
    }
}

/// ModProp written a second way: RTRL's influence recursion with the exact Jacobian replaced by
/// Ĵ = (1 − α)I + α·μ·W̄ (dense, O(N⁴) per step) — the definition ModProp's per-type traces
/// factorise. Agreement checks the factorisation.
func approximateJacobianRTRL(_ model: RNN, _ batch: Batch, cellType: [Int], mu: Double) -> Parameters {
    let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
    let alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
    let C = cellType.max()! + 1
    var sums = Matrix(rows: C, cols: C), counts = Matrix(rows: C, cols: C)
    for j in 0..<N { for k in 0..<N { sums[cellType[j], cellType[k]] += w[j, k]; counts[cellType[j], cellType[k]] += 1 } }
    var jHat = Matrix(rows: N, cols: N)
    for j in 0..<N { for k in 0..<N { jHat[j, k] = alpha * mu * sums[cellType[j], cellType[k]] / counts[cellType[j], cellType[k]] }; jHat[j, j] += 1 - alpha }
    let tr = model.run(batch)
    let (_, g) = lossAndOutputGradient(tr, batch)
    let (offIn, offB, offH) = (N * N, N * N + N * I, N * N + N * I + N)
    let P = offH + N
    var total = [Double](repeating: 0, count: P)
    for b in 0..<B {
        var m = Matrix(rows: N, cols: P)
        for j in 0..<N { m[j, offH + j] = 1 }
        for t in 1...T {
            let row = (t - 1) * B + b
            m = jHat * m
            for j in 0..<N {
                for i in 0..<N { m[j, j * N + i] += alpha * tr.r[row * N + i] }
                for i in 0..<I { m[j, offIn + j * I + i] += alpha * batch.inputs[row * I + i] }
                m[j, offB + j] += alpha
            }
            let signal = model.parameters.wOut.times(Array(g[(row * O)..<((row + 1) * O)]), .transposed)
            let l = (0..<N).map { signal[$0] * phi.derivative(tr.a[(t * B + b) * N + $0]) }
            let c = m.times(l, .transposed)
            for p in 0..<P { total[p] += c[p] }
        }
    }
    var grad = Parameters(zerosLike: model.parameters)
    grad.wRec = Matrix(rows: grad.wRec.rows, cols: grad.wRec.cols, storage: Array(total[0..<offIn]))
    grad.wIn = Matrix(rows: grad.wIn.rows, cols: grad.wIn.cols, storage: Array(total[offIn..<offB]))
    grad.bRec = Array(total[offB..<offH]); grad.h0 = Array(total[offH..<P])
    return grad
}

@Suite("ModProp")
struct ModPropTests {
    var daleCases: [(RNN, Batch)] { (0..<20).map { ConformanceKit.network($0, ConformanceKit.Options(requirement: ModProp.requirement)) } }
    /// The first Dale network on a batch of 45 steps × 5 trials: 225 rows, two of e-prop's chunks
    /// of 128, the boundary inside a step (the cases above fit in one chunk).
    var longDaleCase: (RNN, Batch) {
        let (model, _) = daleCases[0]
        let c = RandomNetworkCase(seed: 5, units: model.units, inputs: model.inputs, outputs: model.outputs, steps: 45, trials: 5,
                                  alpha: model.alpha, activation: model.activation, loss: .mse)
        return (model, c.batch)
    }

    @Test("ModProp's per-type traces equal RTRL with the approximate Jacobian Ĵ = (1−α)I + αμW̄, to 1e-10")
    func equalsApproximateJacobianRTRL() throws {
        for (model, batch) in daleCases + [longDaleCase] {
            for typesPerSign in [1, 2] where model.daleSigns!.filter({ $0 < 0 }).count >= typesPerSign {
                let rule = try ModProp(model: model, mu: 0.7, typesPerSign: typesPerSign)
                let ours = rule.gradient(of: model, on: batch).gradients
                let reference = approximateJacobianRTRL(model, batch, cellType: rule.cellType, mu: 0.7)
                for (name, path) in Parameters.tensors where !["w_out", "b_out"].contains(name) {
                    #expect(relativeError(ours, reference, path) <= exactTolerance, "\(name), \(typesPerSign) types per sign")
                }
            }
        }
    }

    /// At N = 64, T = 50, B = 32 e-prop's pass is split between two threads by units (1.6·10⁶
    /// rows·units, above the second-thread threshold), and each thread copies its units' columns of
    /// l into the signals ModProp's modulatory term reads. The result must not depend on the split.
    @Test("ModProp gives the same bits on one thread and on two")
    func sameBitsOnTwoThreads() throws {
        let c = RandomNetworkCase(seed: 8, units: 64, inputs: 2, outputs: 2, steps: 50, trials: 32, alpha: 0.2, activation: .relu, loss: .mse)
        var model = c.model
        var rng = RandomStream(seed: 9, purpose: .network)
        (model.parameters.wRec, model.daleSigns) = Connectivity.dale(gain: 1.2).recurrentWeights(units: 64, using: &rng)
        let rule = try ModProp(model: model, mu: 0.7, typesPerSign: 2)
        func gradient(threads: Int) -> Parameters {
            let saved = BLAS.threadCount
            BLAS.threadCount = threads
            defer { BLAS.threadCount = saved }
            return rule.gradient(of: model, on: c.batch).gradients
        }
        let (one, two) = (gradient(threads: 1), gradient(threads: 2))
        for (name, path) in Parameters.tensors {
            let differing = zip(one[keyPath: path], two[keyPath: path]).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(name): \(differing) entries differ on two threads")
        }
    }

    @Test("ModProp with its modulatory term off equals e-prop exactly")
    func offEqualsEProp() throws {
        for (model, batch) in daleCases {
            let off = try ModProp(model: model, modulation: false).gradient(of: model, on: batch).gradients
            #expect(off == EProp().gradient(of: model, on: batch).gradients)
        }
    }

    @Test("ModProp's W_rec gradient is closer to BPTT's than e-prop's, on average over seeds (Dale/relu, 2AF, N = 32, g = 1.5)")
    func closerToBPTTThanEProp() throws {
        let task = PerceptualDecisionMaking()
        var modprop: [Double] = [], eprop: [Double] = []
        for seed in UInt64(1)...10 {
            var model = RNN.initial(units: 32, inputs: task.inputSize, outputs: task.outputSize, alpha: 0.2, activation: .relu,
                                    connectivity: .dale(gain: 1.5), seed: seed)
            model.parameters.bRec = Array(repeating: 0.1, count: 32)
            var rng = RandomStream(seed: seed, purpose: .data)
            let batch = task.sample(trials: 32, using: &rng)
            let exact = BPTT().gradient(of: model, on: batch).gradients.wRec.storage
            func cosine(_ g: [Double]) -> Double { dot(g, exact) / (euclideanNorm(g) * euclideanNorm(exact)) }
            modprop.append(cosine(try ModProp(model: model).gradient(of: model, on: batch).gradients.wRec.storage))
            eprop.append(cosine(EProp().gradient(of: model, on: batch).gradients.wRec.storage))
        }
        let (m, e) = (modprop.reduce(0, +) / 10, eprop.reduce(0, +) / 10)
        print("ModProp vs BPTT, mean cosine (W_rec) over 10 seeds: \(m); e-prop: \(e)")
        #expect(m > e, "ModProp \(modprop), e-prop \(eprop)")
    }
}
