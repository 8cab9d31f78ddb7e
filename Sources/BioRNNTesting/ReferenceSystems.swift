import BioRNN
import Foundation

/// Classic systems with published Lyapunov exponents, run through the same generic estimators as
/// the RNN (ChaosTools.jl's habit: every routine meets a closed form first).

/// The Hénon map (x, y) ← (1 − a·x² + y, b·x); J = [[−2ax, 1], [b, 0]], det J = −b, so
/// λ₁ + λ₂ = ln b exactly. For a = 1.4, b = 0.3: λ ≈ (0.4192, −1.6232).
public final class HenonMap: DynamicalMap {
    public let a: Double, b: Double
    private var product = Matrix(rows: 0, cols: 0)
    public init(a: Double = 1.4, b: Double = 0.3) { (self.a, self.b) = (a, b) }
    public var dimension: Int { 2 }
    public func initialState(using rng: inout RandomStream) -> [Double] { [0.1 * rng.uniform(), 0.1 * rng.uniform()] }
    public func step(_ x: inout [Double], time t: Int) { x = [1 - a * x[0] * x[0] + x[1], b * x[0]] }
    public func applyJacobian(at x: [Double], time t: Int, to q: inout Matrix) {
        let j = Matrix([[-2 * a * x[0], 1], [b, 0]])
        if product.rows != q.rows || product.cols != q.cols { product = Matrix(rows: q.rows, cols: q.cols) }
        Matrix.gemm(j, q, into: &product)
        swap(&q, &product)
    }
}

/// The logistic map x ← r·x(1 − x), J = r(1 − 2x). At r = 4, λ = ln 2 (conjugate to the tent map).
public final class LogisticMap: DynamicalMap {
    public let r: Double
    public init(r: Double = 4) { self.r = r }
    public var dimension: Int { 1 }
    public func initialState(using rng: inout RandomStream) -> [Double] { [rng.uniform(0.1, 0.9)] }
    public func step(_ x: inout [Double], time t: Int) { x[0] = r * x[0] * (1 - x[0]) }
    public func applyJacobian(at x: [Double], time t: Int, to q: inout Matrix) {
        let d = r * (1 - 2 * x[0])
        for c in 0..<q.cols { q[0, c] *= d }
    }
}

/// The Lorenz flow ẋ = σ(y − x), ẏ = x(ρ − z) − y, ż = xy − βz, sampled every Δt: the map is the
/// flow Φ_Δt, integrated by GSL's rk8pd, and its Jacobian the fundamental matrix M(Δt) of the
/// variational equations Ṁ = Df(x(t))·M, M(0) = I, integrated alongside the state. Exponents per
/// unit time are the per-step ones divided by Δt; for (10, 28, 8/3), λ ≈ (0.9056, 0, −14.5723)
/// and, by Liouville, Σλ = tr Df = −(σ + 1 + β) = −41/3 exactly.
public final class LorenzFlowMap: DynamicalMap {
    public let sigma: Double, rho: Double, beta: Double, dt: Double
    private let flow: GSLODEIntegrator
    private let variational: GSLODEIntegrator

    public init(sigma: Double = 10, rho: Double = 28, beta: Double = 8.0 / 3, dt: Double = 0.01, tolerance: Double = 1e-11) {
        (self.sigma, self.rho, self.beta, self.dt) = (sigma, rho, beta, dt)
        flow = GSLODEIntegrator(dimension: 3, initialStep: dt / 10, epsAbs: tolerance, epsRel: tolerance) { _, y, f in
            f[0] = sigma * (y[1] - y[0]); f[1] = y[0] * (rho - y[2]) - y[1]; f[2] = y[0] * y[1] - beta * y[2]
        }
        // State (3) then M (3×3, row-major).
        variational = GSLODEIntegrator(dimension: 12, initialStep: dt / 10, epsAbs: tolerance, epsRel: tolerance) { _, y, f in
            f[0] = sigma * (y[1] - y[0]); f[1] = y[0] * (rho - y[2]) - y[1]; f[2] = y[0] * y[1] - beta * y[2]
            let df = [-sigma, sigma, 0, rho - y[2], -1, -y[0], y[1], y[0], -beta]
            for i in 0..<3 { for j in 0..<3 { f[3 + i * 3 + j] = (0..<3).reduce(0) { $0 + df[i * 3 + $1] * y[3 + $1 * 3 + j] } } }
        }
    }

    public var dimension: Int { 3 }
    public func initialState(using rng: inout RandomStream) -> [Double] { [1 + rng.normal(), 1 + rng.normal(), 20 + rng.normal()] }

    public func step(_ x: inout [Double], time t: Int) {
        var time = 0.0
        try! flow.advance(&x, time: &time, to: dt)
    }

    public func applyJacobian(at x: [Double], time t: Int, to q: inout Matrix) {
        var y = x + [1, 0, 0, 0, 1, 0, 0, 0, 1]
        var time = 0.0
        try! variational.advance(&y, time: &time, to: dt)
        q = Matrix(rows: 3, cols: 3, storage: Array(y[3...])) * q
    }
}

/// Mean-field theory of random rate networks (α = 1, W_ij ~ N(0, g²/N), tanh, autonomous;
/// Molgedey, Schuchhardt & Schuster 1992): the variance of the pre-activations solves
/// Δ = g²·⟨tanh²(√Δ·z)⟩ and λ_max = ½·ln(g²·⟨φ'(√Δ·z)²⟩), z ~ N(0, 1). Gaussian averages by GSL
/// qagi, Δ by fixed-point iteration. For g < 1, Δ = 0 and λ_max = ln g.
public enum MeanFieldTheory {
    public static func gaussianAverage(_ f: @escaping (Double) -> Double) throws -> Double {
        try GSL.integrateOverRealLine { z in f(z) * exp(-z * z / 2) / (2 * Double.pi).squareRoot() }.value
    }

    /// The stationary variance Δ(g).
    public static func variance(gain g: Double) throws -> Double {
        guard g > 1 else { return 0 }
        var delta = 1.0
        for _ in 0..<500 {
            let next = try g * g * gaussianAverage { z in let t = tanh(delta.squareRoot() * z); return t * t }
            if abs(next - delta) <= 1e-14 * max(1, delta) { return next }
            delta = next
        }
        return delta
    }

    /// λ_max per step.
    public static func maximalExponent(gain g: Double) throws -> Double {
        let delta = try variance(gain: g)
        guard delta > 0 else { return log(g) }
        let meanSquareSlope = try gaussianAverage { z in let t = tanh(delta.squareRoot() * z); return (1 - t * t) * (1 - t * t) }
        return 0.5 * log(g * g * meanSquareSlope)
    }
}
