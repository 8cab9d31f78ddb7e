import CKernels
import Foundation

/// The rate nonlinearity φ (<doc:TheModel>), with the derivatives the learning rules and flossing use.
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

    /// φ applied to `count` values at once (the forward pass's B×N block per step). tanh runs
    /// CKernels' vectorised loop, which equals `hyperbolicTangent` value for value.
    @inline(__always)
    public func apply(_ x: UnsafePointer<Double>, to y: UnsafeMutablePointer<Double>, count: Int) {
        switch self {
        case .tanh: biornn_tanh_block(x, y, count)
        default: for i in 0..<count { y[i] = self(x[i]) }
        }
    }

    /// d = φ'(x) for a whole vector (a Jacobian's diagonal at a state): the same numbers as
    /// `derivative(_:)` one by one, with tanh from CKernels' vectorised loop.
    public func derivatives(of x: [Double], into d: inout [Double]) {
        precondition(d.count == x.count, "derivatives: \(x.count) values into \(d.count)")
        switch self {
        case .tanh:
            x.withUnsafeBufferPointer { xp in d.withUnsafeMutableBufferPointer { biornn_tanh_block(xp.baseAddress!, $0.baseAddress!, x.count) } }
            for i in d.indices { d[i] = 1 - d[i] * d[i] }
        default: for i in x.indices { d[i] = derivative(x[i]) }
        }
    }

    /// v ← v ⊙ φ'(x) for `count` values, with r = φ(x) at hand: the backward passes' blocks. The
    /// same numbers as `derivative(_:output:)` one by one (tanh in CKernels' vectorised loop).
    @inline(__always)
    public func multiplyByDerivative(_ v: UnsafeMutablePointer<Double>, at x: UnsafePointer<Double>, output r: UnsafePointer<Double>, count: Int) {
        switch self {
        case .tanh: biornn_tanh_slope_product(v, r, count)
        default: for i in 0..<count { v[i] *= derivative(x[i], output: r[i]) }
        }
    }

    /// tanh without a libm call: `biornn_tanh` of CKernels (the algorithm and its error are
    /// written there). glibc's tanh was a third of a training step at N = 256.
    @inline(__always)
    public static func hyperbolicTangent(_ x: Double) -> Double { biornn_tanh(x) }
}
