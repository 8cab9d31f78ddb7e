import Foundation

/// The rate nonlinearity φ (design §2), with the derivatives the learning rules and flossing use.
public enum Activation: String, CaseIterable, Sendable, Codable {
    /// φ(x) = tanh x
    case tanh
    /// φ(x) = max(tanh x, 0)
    case retanh
    /// φ(x) = max(x, 0)
    case relu
    /// φ(x) = log(1 + eˣ)
    case softplus
    /// φ(x) = x (for closed-form tests)
    case linear

    @inline(__always)
    public func callAsFunction(_ x: Double) -> Double {
        switch self {
        case .tanh: return Activation.hyperbolicTangent(x)
        case .retanh: return max(Activation.hyperbolicTangent(x), 0)
        case .relu: return max(x, 0)
        case .softplus: return max(x, 0) + log1p(exp(-abs(x)))   // stable for large |x|
        case .linear: return x
        }
    }

    /// φ'(x). At the kinks of relu and retanh (x = 0) the right derivative is not used: φ'(0) = 0.
    @inline(__always)
    public func derivative(_ x: Double) -> Double {
        switch self {
        case .tanh: let t = Activation.hyperbolicTangent(x); return 1 - t * t
        case .retanh: guard x > 0 else { return 0 }; let t = Activation.hyperbolicTangent(x); return 1 - t * t
        case .relu: return x > 0 ? 1 : 0
        case .softplus: return 1 / (1 + exp(-x))
        case .linear: return 1
        }
    }

    /// φ'(x) from x and r = φ(x) when r is at hand (a trajectory stores both): the same number as
    /// `derivative(x)` — bit for bit for tanh, retanh, relu and linear — without recomputing tanh.
    @inline(__always)
    public func derivative(_ x: Double, output r: Double) -> Double {
        switch self {
        case .tanh: return 1 - r * r
        case .retanh: return x > 0 ? 1 - r * r : 0
        case .relu, .softplus, .linear: return derivative(x)
        }
    }

    /// φ''(x) (used by local flossing's state term); 0 at and beyond the kinks of relu/retanh.
    @inline(__always)
    public func secondDerivative(_ x: Double) -> Double {
        switch self {
        case .tanh: let t = Activation.hyperbolicTangent(x); return -2 * t * (1 - t * t)
        case .retanh: guard x > 0 else { return 0 }; let t = Activation.hyperbolicTangent(x); return -2 * t * (1 - t * t)
        case .relu, .linear: return 0
        case .softplus: let s = 1 / (1 + exp(-x)); return s * (1 - s)
        }
    }

    /// φ applied to `count` values at once (the forward pass's B×N block per step).
    @inline(__always)
    public func apply(_ x: UnsafePointer<Double>, to y: UnsafeMutablePointer<Double>, count: Int) {
        // Large blocks in two halves on two threads (the second core otherwise waits for BLAS;
        // this took BPTT at N = 256 from 49 to 35 ms). Element by element, so the result does not
        // depend on the split. The pointers travel as addresses: concurrentPerform returns only
        // when both halves are done, so they outlive every use.
        let halves = count >= 4096 ? 2 : 1
        let (xs, ys) = (UInt(bitPattern: x), UInt(bitPattern: y))
        DispatchQueue.concurrentPerform(iterations: halves) { h in
            let x = UnsafePointer<Double>(bitPattern: xs)!, y = UnsafeMutablePointer<Double>(bitPattern: ys)!
            let range = (h * count / halves)..<((h + 1) * count / halves)
            switch self {
            case .tanh: for i in range { y[i] = Activation.hyperbolicTangent(x[i]) }
            default: for i in range { y[i] = self(x[i]) }
            }
        }
    }

    /// tanh without a libm call, branch-free so that loops over it vectorise. A third of a
    /// training step went into glibc's tanh (N = 256); this takes about a third of the time and
    /// stays within 5 ulp of it (ForwardTests checks 10⁶ values over every range, with the error
    /// budget):
    ///
    ///     |x| < 0.625:  u = expm1(2|x|) by its Taylor series to degree 22 (truncation < 10⁻²⁰
    ///                   relative; Horner, positive terms), tanh|x| = u / (u + 2)
    ///     |x| ≥ 0.625:  e = exp(2|x|) = 2^k·exp(r), k = round(2|x|/ln 2), r = 2|x| − k·ln 2 in two
    ///                   parts (Cody–Waite), exp(r) by Taylor to degree 13 (|r| ≤ 0.35: < 10⁻¹⁷);
    ///                   tanh|x| = 1 − 2/(e + 1); 2|x| is capped at 44, where this rounds to 1
    ///
    /// and the sign of x put back (tanh(−0) = −0); NaN stays NaN.
    @inline(__always)
    public static func hyperbolicTangent(_ x: Double) -> Double {
        let ax = abs(x)
        // Large branch.
        let y = min(2 * ax, 44.0)
        // k = round(y/ln 2) by adding 1.5·2⁵² (whose ulp is 1): no rint call; k's bits are then
        // the low bits of t's, which also builds 2^k below.
        let magic = 6755399441055744.0
        let t = y * 1.4426950408889634 + magic
        let k = t - magic
        let r = (y - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
        var p = 1.0 / 6227020800                            // 1/13!
        p = p * r + 1.0 / 479001600; p = p * r + 1.0 / 39916800; p = p * r + 1.0 / 3628800
        p = p * r + 1.0 / 362880; p = p * r + 1.0 / 40320; p = p * r + 1.0 / 5040; p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120; p = p * r + 1.0 / 24; p = p * r + 1.0 / 6; p = p * r + 0.5; p = p * r + 1; p = p * r + 1
        let e = p * Double(bitPattern: (t.bitPattern &- magic.bitPattern &+ 1023) << 52)
        let large = 1 - 2 / (e + 1)
        // Small branch: expm1(z) = z·(1 + z/2! + z²/3! + … + z²¹/22!), by Horner.
        let z = 2 * min(ax, 0.625)
        var q = 1.0 / 1124000727777607680000
        q = q * z + 1.0 / 51090942171709440000; q = q * z + 1.0 / 2432902008176640000; q = q * z + 1.0 / 121645100408832000; q = q * z + 1.0 / 6402373705728000
        q = q * z + 1.0 / 355687428096000; q = q * z + 1.0 / 20922789888000; q = q * z + 1.0 / 1307674368000; q = q * z + 1.0 / 87178291200
        q = q * z + 1.0 / 6227020800; q = q * z + 1.0 / 479001600; q = q * z + 1.0 / 39916800; q = q * z + 1.0 / 3628800
        q = q * z + 1.0 / 362880; q = q * z + 1.0 / 40320; q = q * z + 1.0 / 5040; q = q * z + 1.0 / 720
        q = q * z + 1.0 / 120; q = q * z + 1.0 / 24; q = q * z + 1.0 / 6; q = q * z + 1.0 / 2
        q = q * z + 1
        let u = z * q
        let small = u / (u + 2)
        let magnitude = ax < 0.625 ? small : large
        return x.isNaN ? x : (x.sign == .minus ? -magnitude : magnitude)
    }
}
