import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// log|μ_i| of the eigenvalues (GSL), sorted descending.
func logModuli(_ a: Matrix) throws -> [Double] {
    try GSL.eigenvalues(a).map { log($0.magnitude) }.sorted(by: >)
}

/// A linear RNN: W_rec ~ N(0, g²/N) (or its symmetric part), φ = linear, no input or bias.
func linearNetwork(units n: Int, gain g: Double, alpha: Double, seed: UInt64, symmetric: Bool = false) -> RNN {
    var rng = RandomStream(seed: seed, purpose: .network)
    var w = Matrix.randomNormal(rows: n, cols: n, sd: g / Double(n).squareRoot(), using: &rng)
    if symmetric { w = (1 / 2.0.squareRoot()) * (w + w.transposed) }
    let p = Parameters(wIn: Matrix(rows: n, cols: 1), wRec: w, wOut: Matrix(rows: 1, cols: n),
                       bRec: Array(repeating: 0, count: n), bOut: [0], h0: Array(repeating: 0, count: n))
    return RNN(alpha: alpha, activation: .linear, parameters: p)
}

@Suite("Lyapunov analysis: closed forms")
struct ClosedFormTests {
    @Test("linear maps: the spectrum is log|μ_i| of (1−α)I + αW_rec (GSL eigenvalues), k = N and k < N",
          arguments: [(5, 1), (20, 2), (50, 3)])
    func linearSpectrum(units n: Int, seed: UInt64) throws {
        // For A = VΛV⁻¹ the QR method's i-th estimate after T steps is log|μ_i| + c_i/T, where
        // |c_i| ≤ log κ(V) + log(1/|projection of Q_0 on the slow subspace|): both are O(log N)
        // for Gaussian W (κ(V) grows polynomially in N). With T = 20 000, a bound of
        // (10 + 4·ln N)/T ≈ 1.3e-3 (N = 50) holds with room; a wrong Jacobian is off by O(α).
        let T = 20_000
        for alpha in [0.1, 1.0] {
            let model = linearNetwork(units: n, gain: 1.1, alpha: alpha, seed: seed)
            let a = (1 - alpha) * Matrix.identity(n) + alpha * model.parameters.wRec
            let exact = try logModuli(a)
            let tol = (10 + 4 * log(Double(n))) / Double(T)
            for k in Set([n, max(1, n / 3)]) {
                let est = try Lyapunov.spectrum(of: RNNMap(model), k: k, options: LyapunovOptions(transient: 0, steps: T))
                for i in 0..<k { #expect(abs(est.exponents[i] - exact[i]) <= tol, "N = \(n), α = \(alpha), k = \(k), i = \(i): \(est.exponents[i]) vs \(exact[i])") }
            }
        }
    }

    @Test("linear maps with symmetric W: orthogonal eigenvectors, so the error is only log(1/|projection|)/T")
    func symmetricSpectrum() throws {
        // κ(V) = 1; the O(1/T) term is bounded by ln N-sized projection factors: (2 + 2·ln N)/T.
        let (n, T) = (30, 5000)
        let model = linearNetwork(units: n, gain: 0.9, alpha: 0.5, seed: 8, symmetric: true)
        let exact = try logModuli(0.5 * Matrix.identity(n) + 0.5 * model.parameters.wRec)
        let est = try Lyapunov.spectrum(of: RNNMap(model), k: n, options: LyapunovOptions(transient: 0, steps: T))
        let tol = (2 + 2 * log(Double(n))) / Double(T)
        for i in 0..<n { #expect(abs(est.exponents[i] - exact[i]) <= tol, "i = \(i)") }
    }

    @Test("stable fixed point: tanh, g < 1, zero input and bias — the spectrum is log|eig| of the Jacobian at the origin")
    func stableFixedPoint() throws {
        // After 2000 transient steps the state is within 0.9^2000 of the origin, so J_t = J(0) to
        // rounding and the linear-map bound (10 + 4 ln N)/T applies.
        for (g, alpha) in [(0.5, 1.0), (0.8, 0.2)] {
            let n = 40, T = 10_000
            let model = RNN.initial(units: n, inputs: 1, outputs: 1, alpha: alpha, activation: .tanh, connectivity: .gaussian(gain: g), seed: 4)
            let exact = try logModuli((1 - alpha) * Matrix.identity(n) + alpha * model.parameters.wRec)
            let est = try Lyapunov.spectrum(of: RNNMap(model), k: n, options: LyapunovOptions(transient: 2000, steps: T))
            let tol = (10 + 4 * log(Double(n))) / Double(T)
            for i in 0..<n { #expect(abs(est.exponents[i] - exact[i]) <= tol, "g = \(g), i = \(i)") }
        }
    }

    @Test("exact identity: for k = N, Σλ_i equals the trajectory mean of log|det J_t| (GSL LU) to 1e-10, at any T", arguments: [1, 7, 50])
    func sumEqualsMeanLogDet(steps: Int) throws {
        let n = 12
        let model = RNN.initial(units: n, inputs: 2, outputs: 1, alpha: 0.3, activation: .tanh, connectivity: .gaussian(gain: 2.5), seed: 6)
        let map = RNNMap(model)
        let est = try Lyapunov.spectrum(of: map, k: n, options: LyapunovOptions(transient: 20, steps: steps))
        // The same trajectory, replayed: J_t = (1 − α)I + α·W·diag(φ'(a_{t−1})).
        var rng = RandomStream(seed: 1, purpose: .initialCondition)
        var a = map.initialState(using: &rng)
        for t in 0..<20 { map.step(&a, time: t) }
        var sum = 0.0
        for t in 0..<steps {
            var j = 0.3 * model.parameters.wRec
            for r in 0..<n { for c in 0..<n { j[r, c] *= model.activation.derivative(a[c]) }; j[r, r] += 0.7 }
            sum += try GSL.logAbsDeterminant(j)
            map.step(&a, time: 20 + t)
        }
        let expected = sum / Double(steps)
        #expect(abs(est.exponents.reduce(0, +) - expected) <= 1e-10 * max(1, abs(expected)))
    }
}

