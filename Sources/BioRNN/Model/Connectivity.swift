import Foundation

/// Initial recurrent connectivity — the variable under study (<doc:InitialConnectivity>). g is the gain.
public enum Connectivity: Equatable, Sendable {
    /// W_ij ~ N(0, g²/N), optionally with a zero diagonal. Spectral radius → g as N → ∞.
    case gaussian(gain: Double, zeroDiagonal: Bool = false)
    /// g·Q with Q Haar-random orthogonal: Q from the QR of an N×N Gaussian matrix with diag R > 0
    /// (Mezzadri 2007). All eigenvalues have modulus g exactly.
    case orthogonal(gain: Double)
    /// Bernoulli(p) mask; nonzero entries N(0, g²/(pN)), so the variance per entry is g²/N.
    case sparse(gain: Double, density: Double)
    /// Dale's law: the first round(f_E·N) columns excitatory (≥ 0), the rest inhibitory (≤ 0);
    /// magnitudes |z|, z ~ N(0, 1), with each row's inhibitory entries rescaled so that the row
    /// sums to exactly 0 (balance); then the whole matrix is scaled to spectral radius g (LAPACK
    /// eigenvalues), matching the radius of gaussian(g) at large N.
    case dale(gain: Double, excitatoryFraction: Double = 0.8)

    public var gain: Double {
        switch self {
        case let .gaussian(g, _), let .orthogonal(g), let .sparse(g, _), let .dale(g, _): return g
        }
    }

    /// The family's `--init` name.
    public var family: String {
        switch self {
        case .gaussian: return "gaussian"
        case .orthogonal: return "orthogonal"
        case .sparse: return "sparse"
        case .dale: return "dale"
        }
    }

    public static let families = ["gaussian", "orthogonal", "sparse", "dale"]

    /// The family by name with its default shape parameters (sparse p = 0.1, dale f_E = 0.8).
    public static func named(_ family: String, gain: Double) throws -> Connectivity {
        guard gain.isFinite, gain >= 0 else { throw InputError(.gain, "must be a finite number ≥ 0, got \(gain)") }
        switch family {
        case "gaussian": return .gaussian(gain: gain)
        case "orthogonal": return .orthogonal(gain: gain)
        case "sparse": return .sparse(gain: gain, density: 0.1)
        case "dale": return .dale(gain: gain)
        default: throw InputError(.initFamily, unknownName(family, kind: "connectivity", known: families))
        }
    }

    /// W_rec (N×N) and, for Dale networks, the column signs.
    public func recurrentWeights(units n: Int, using rng: inout RandomStream) -> (weights: Matrix, daleSigns: [Double]?) {
        let N = Double(n)
        switch self {
        case let .gaussian(g, zeroDiagonal):
            var w = Matrix.randomNormal(rows: n, cols: n, sd: g / N.squareRoot(), using: &rng)
            if zeroDiagonal { for i in 0..<n { w[i, i] = 0 } }
            return (w, nil)
        case let .orthogonal(g):
            let q = Matrix.randomNormal(rows: n, cols: n, sd: 1, using: &rng).qr.q   // diag R ≥ 0: Haar
            return (g * q, nil)
        case let .sparse(g, p):
            precondition(p > 0 && p <= 1, "sparse density must lie in (0, 1]")
            var w = Matrix(rows: n, cols: n)
            let sd = g / (p * N).squareRoot()
            for idx in 0..<(n * n) {
                let keep = rng.bernoulli(p)
                let z = rng.normal()          // drawn either way: the mask does not shift the stream
                if keep { w.storage[idx] = sd * z }
            }
            return (w, nil)
        case let .dale(g, fE):
            let nE = Int((fE * N).rounded())
            precondition(nE >= 1 && nE < n, "Dale networks need at least one excitatory and one inhibitory unit")
            let signs = (0..<n).map { $0 < nE ? 1.0 : -1.0 }
            var w = Matrix(rows: n, cols: n)
            for i in 0..<n {
                var sumE = 0.0, sumI = 0.0
                for j in 0..<n {
                    let v = abs(rng.normal())
                    w[i, j] = signs[j] * v
                    if j < nE { sumE += v } else { sumI += v }
                }
                for j in nE..<n { w[i, j] *= sumE / sumI }   // row sum exactly 0
            }
            let radius = w.spectralRadius
            return (radius > 0 ? (g / radius) * w : w, signs)
        }
    }
}

extension RNN {
    /// A fresh network (<doc:InitialConnectivity>): W_rec from `connectivity`, then W_in ~ N(0, 1/I) and
    /// W_out ~ N(0, 1/N), all from `RandomStream(seed: seed, purpose: .network)` in that order;
    /// biases and h0 zero.
    public static func initial(units n: Int, inputs i: Int, outputs o: Int, alpha: Double, activation: Activation,
                               connectivity: Connectivity, seed: UInt64) -> RNN {
        var rng = RandomStream(seed: seed, purpose: .network)
        let (wRec, signs) = connectivity.recurrentWeights(units: n, using: &rng)
        let wIn = Matrix.randomNormal(rows: n, cols: i, sd: i > 0 ? 1 / Double(i).squareRoot() : 0, using: &rng)
        let wOut = Matrix.randomNormal(rows: o, cols: n, sd: 1 / Double(n).squareRoot(), using: &rng)
        let params = Parameters(wIn: wIn, wRec: wRec, wOut: wOut, bRec: Array(repeating: 0, count: n),
                                bOut: Array(repeating: 0, count: o), h0: Array(repeating: 0, count: n))
        return RNN(alpha: alpha, activation: activation, parameters: params, daleSigns: signs,
                   extras: ["init": .string(connectivity.family), "gain": .number(connectivity.gain)])
    }
}

