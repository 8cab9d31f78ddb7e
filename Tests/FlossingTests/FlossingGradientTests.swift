import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// The flossing loss evaluated independently: the RNN step and Jacobian in plain loops, QR by GSL
/// (log|R_ii|, GSL's signs), the same seeds and inputs. The transient runs with the unperturbed
/// weights `transientModel` (L_floss holds it fixed); the window with `model`'s.
func referenceFlossingLoss(_ model: RNN, transientModel: RNN? = nil, k: Int, transient: Int, window: Int, seed: UInt64, target: Double = 0) throws -> Double {
    let n = model.units, alpha = model.alpha, phi = model.activation
    var rng = RandomStream(seed: seed, purpose: .initialCondition)
    var a = model.parameters.h0.map { $0 + rng.normal() }
    func step(_ a: [Double], _ p: Parameters) -> [Double] {
        (0..<n).map { j in (1 - alpha) * a[j] + alpha * ((0..<n).reduce(p.bRec[j]) { $0 + p.wRec[j, $1] * phi(a[$1]) }) }
    }
    for _ in 0..<transient { a = step(a, (transientModel ?? model).parameters) }
    let p = model.parameters
    var orng = RandomStream(seed: seed, purpose: .orthonormal)
    var q = try GSL.qr(Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &orng)).q
    var sums = [Double](repeating: 0, count: k)
    for _ in 0..<window {
        var j = Matrix(rows: n, cols: n)
        for r in 0..<n { for c in 0..<n { j[r, c] = alpha * p.wRec[r, c] * phi.derivative(a[c]) }; j[r, r] += 1 - alpha }
        var v = Matrix(rows: n, cols: k)
        for r in 0..<n { for c in 0..<k { v[r, c] = (0..<n).reduce(0) { $0 + j[r, $1] * q[$1, c] } } }
        let (qn, rr) = try GSL.qr(v)
        for i in 0..<k { sums[i] += log(abs(rr[i, i])) }
        // GSL's Q may differ from ours by column signs; the next R_ii only changes sign with it.
        q = qn
        a = step(a, p)
    }
    return sums.reduce(0) { $0 + ($1 / Double(window) - target) * ($1 / Double(window) - target) } / Double(k)
}

func smallFlossingNetwork(units n: Int, alpha: Double, gain: Double, seed: UInt64) -> RNN {
    var model = RNN.initial(units: n, inputs: 1, outputs: 1, alpha: alpha, activation: .tanh, connectivity: .gaussian(gain: gain), seed: seed)
    var rng = RandomStream(seed: seed, name: "biases")
    model.parameters.bRec = (0..<n).map { _ in 0.2 * rng.normal() }
    return model
}

@Suite("Flossing gradients")
struct FlossingGradientTests {
    static let cases: [(n: Int, k: Int, alpha: Double, window: Int)] = [
        (6, 1, 1, 30), (6, 2, 0.1, 25), (8, 8, 1, 20), (10, 2, 1, 30), (5, 5, 0.1, 30), (10, 1, 0.1, 12),
    ]

    @Test("full flossing equals GSL central differences of the independently evaluated loss", arguments: Array(0..<6))
    func fullMatchesFiniteDifferences(index: Int) throws {
        // Budget as for BPTT: |analytic − FD| ≤ 1e-6·‖∇L‖‖d‖ + 4·(GSL's error estimate). The loss is
        // smooth in the weights as long as no R_ii approaches 0 (checked by `record`), so the
        // 5-point rule with h = 1e-5 is accurate to ~1e-10 relative.
        let c = Self.cases[index]
        let model = smallFlossingNetwork(units: c.n, alpha: c.alpha, gain: 1.8, seed: UInt64(index + 1))
        let seed = UInt64(40 + index)
        let window = try FlossingWindow.record(RNNMap(model), k: c.k, transient: 10, window: c.window,
                                               initialConditionSeed: seed, orthonormalSeed: seed)
        #expect(abs(window.loss(target: 0) - (try referenceFlossingLoss(model, k: c.k, transient: 10, window: c.window, seed: seed))) <= 1e-12)
        let grad = window.gradient(mode: .full, target: 0)
        var rng = RandomStream(seed: seed, name: "directions")
        for name in ["w_rec", "b_rec"] {
            let d = Parameters.randomDirection(like: model.parameters, tensor: name, using: &rng)
            let fd = try GSL.derivative(at: 0, step: 1e-5) { eps in
                var moved = model
                moved.parameters = model.parameters.moved(by: eps, along: d)
                return (try? referenceFlossingLoss(moved, transientModel: model, k: c.k, transient: 10, window: c.window, seed: seed)) ?? .nan
            }
            let path = Parameters.tensors.first { $0.name == name }!.path
            let scale = euclideanNorm(grad[keyPath: path]) * euclideanNorm(d[keyPath: path])
            #expect(abs(grad.dot(d) - fd.value) <= 1e-6 * scale + 4 * fd.error, "\(name) case \(c): analytic \(grad.dot(d)), FD \(fd.value) ± \(fd.error)")
        }
    }
}

/// Local flossing's definition, evaluated independently: Σ_t Σ_i c_i·log|R_ii| of GSL's QR of
/// J(W + εD, a_{τ−1} + ε·δa_{τ−1})·Q_{t−1} with Q_{t−1} frozen, and the state moved only along
/// its eligibility traces: δa_j = Σ_k D^rec_jk r̄_k + Σ_i D^in_ji x̄_i + D^b_j b̄ (zero for
/// local-explicit). Its derivative at ε = 0 is ⟨g_local, D⟩.
func frozenPerStepObjective(_ w: FlossingWindow, direction d: Parameters, epsilon: Double, stateTerm: Bool) throws -> Double {
    let model = w.map.model, n = model.units, alpha = model.alpha, phi = model.activation
    let c = w.exponents.map { 2 * $0 / (Double(w.k) * Double(w.window)) }   // target 0
    let moved = model.parameters.moved(by: epsilon, along: d)
    var rBar = [Double](repeating: 0, count: n), xBar = [Double](repeating: 0, count: model.inputs), bBar = 0.0
    var total = 0.0
    for tau in 1...(w.transient + w.window) {
        let prev = w.state(tau - 1)
        if tau > w.transient {
            let t = tau - w.transient
            var a = prev
            if stateTerm {
                for j in 0..<n {
                    var da = d.bRec[j] * bBar
                    for k in 0..<n { da += d.wRec[j, k] * rBar[k] }
                    for i in 0..<model.inputs { da += d.wIn[j, i] * xBar[i] }
                    a[j] += epsilon * da
                }
            }
            var jac = Matrix(rows: n, cols: n)
            for r in 0..<n { for col in 0..<n { jac[r, col] = alpha * moved.wRec[r, col] * phi.derivative(a[col]) }; jac[r, r] += 1 - alpha }
            let rr = try GSL.qr(GSL.gemm(.none, jac, .none, w.basis(t - 1))).r
            for i in 0..<w.k { total += c[i] * log(abs(rr[i, i])) }
        }
        let x = w.map.input(at: tau - 1)
        for i in 0..<n { rBar[i] = (1 - alpha) * rBar[i] + alpha * phi(prev[i]) }
        for i in 0..<model.inputs { xBar[i] = (1 - alpha) * xBar[i] + alpha * x[i] }
        bBar = (1 - alpha) * bBar + alpha
    }
    return total
}

@Suite("Local flossing gradients")
struct LocalFlossingGradientTests {
    @Test("local and local-explicit gradients equal GSL differences of their frozen per-step objectives",
          arguments: [(6, 1, 1.0), (7, 3, 0.1), (5, 5, 0.5)])
    func localMatchesDefinition(n: Int, k: Int, alpha: Double) throws {
        var model = smallFlossingNetwork(units: n, alpha: alpha, gain: 1.6, seed: UInt64(n))
        var irng = RandomStream(seed: 4)
        model.parameters.wIn = Matrix.randomNormal(rows: n, cols: 2, sd: 1, using: &irng)
        let inputs = Matrix.randomNormal(rows: 7, cols: 2, sd: 1, using: &irng)   // driven: exercises W_in
        let window = try FlossingWindow.record(RNNMap(model, inputs: inputs), k: k, transient: 8, window: 20, initialConditionSeed: 5, orthonormalSeed: 6)
        for (mode, stateTerm) in [(FlossMode.local, true), (.localExplicit, false)] {
            let grad = window.gradient(mode: mode, target: 0)
            var rng = RandomStream(seed: UInt64(n * 10 + k), name: "directions")
            for name in ["w_rec", "w_in", "b_rec"] {
                let d = Parameters.randomDirection(like: model.parameters, tensor: name, using: &rng)
                let fd = try GSL.derivative(at: 0, step: 1e-5) { eps in (try? frozenPerStepObjective(window, direction: d, epsilon: eps, stateTerm: stateTerm)) ?? .nan }
                let path = Parameters.tensors.first { $0.name == name }!.path
                let scale = euclideanNorm(grad[keyPath: path]) * euclideanNorm(d[keyPath: path])
                // Same budget as the full gradient; for local-explicit, W_in and b_rec have no explicit term: both sides 0.
                #expect(abs(grad.dot(d) - fd.value) <= 1e-6 * scale + 4 * fd.error + 1e-14, "\(mode) \(name): \(grad.dot(d)) vs FD \(fd.value) ± \(fd.error)")
            }
        }
    }

    @Test("cosines of the local gradients with the full one (reported); the explicit term alone has no W_in or b_rec component")
    func cosinesWithFull() throws {
        var lines: [String] = []
        for (g, alpha) in [(0.5, 0.1), (2.0, 1.0)] {
            let model = RNN.initial(units: 32, inputs: 1, outputs: 1, alpha: alpha, activation: .tanh, connectivity: .gaussian(gain: g), seed: 2)
            let window = try FlossingWindow.record(RNNMap(model), k: 1, transient: 100, window: 100, initialConditionSeed: 1, orthonormalSeed: 1)
            let full = window.gradient(mode: .full, target: 0).wRec.storage
            let local = window.gradient(mode: .local, target: 0)
            let explicit = window.gradient(mode: .localExplicit, target: 0)
            lines.append("g = \(g), α = \(alpha): cos(local, full) = \(cosineSimilarity(local.wRec.storage, full)), cos(local-explicit, full) = \(cosineSimilarity(explicit.wRec.storage, full))")
            #expect(explicit.bRec.allSatisfy { $0 == 0 } && explicit.wIn.storage.allSatisfy { $0 == 0 })
        }
        print(lines.joined(separator: "\n"))
    }
}
