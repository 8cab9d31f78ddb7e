import Foundation

/// Mean and sample standard deviation.
public func meanAndSD(_ x: [Double]) -> (mean: Double, sd: Double) {
    guard !x.isEmpty else { return (.nan, .nan) }
    let mean = x.reduce(0, +) / Double(x.count)
    guard x.count > 1 else { return (mean, 0) }
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count - 1)
    return (mean, variance.squareRoot())
}

/// cos(a, b) = ⟨a, b⟩ / (‖a‖‖b‖); 0 when either vanishes.
public func cosineSimilarity(_ a: [Double], _ b: [Double]) -> Double {
    let (na, nb) = (euclideanNorm(a), euclideanNorm(b))
    return na > 0 && nb > 0 ? dot(a, b) / (na * nb) : 0
}

/// Mean and standard error of the mean (s.d./√n; NaN for fewer than two values).
public func meanAndSEM(_ x: [Double]) -> (mean: Double, sem: Double) {
    let (m, sd) = meanAndSD(x)
    return (m, x.count >= 2 ? sd / Double(x.count).squareRoot() : .nan)
}

/// The regularized incomplete beta function I_x(a, b) = B(x; a, b)/B(a, b), a, b > 0, from its
/// continued fraction (modified Lentz), evaluated on the side of x where it converges fast:
///
///     I_x(a, b) = x^a (1 − x)^b / (a·B(a, b)) · 1/(1+ d₁/(1+ d₂/(1+ …)))        for x < (a + 1)/(a + b + 2)
///     d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)),   d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m))
///
/// and I_x(a, b) = 1 − I_{1−x}(b, a) otherwise. Relative accuracy about 1e-14 (the tests hold it
/// to GSL's).
public func regularizedIncompleteBeta(_ a: Double, _ b: Double, _ x: Double) -> Double {
    precondition(a > 0 && b > 0, "a and b must be positive")
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
    if x < (a + 1) / (a + b + 2) { return exp(logFront) * betaContinuedFraction(a, b, x) / a }
    return 1 - exp(logFront) * betaContinuedFraction(b, a, 1 - x) / b
}

/// 1/(1+ d₁/(1+ d₂/(1+ …))) of `regularizedIncompleteBeta`, by the modified Lentz method.
func betaContinuedFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
    let tiny = 1e-300
    func guarded(_ v: Double) -> Double { abs(v) < tiny ? tiny : v }
    var c = 1.0, d = 1 / guarded(1 - (a + b) * x / (a + 1))
    var result = d
    for m in 1...500 {
        let m = Double(m)
        let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 / guarded(1 + even * d)
        c = guarded(1 + even / c)
        result *= d * c
        let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 / guarded(1 + odd * d)
        c = guarded(1 + odd / c)
        let step = d * c
        result *= step
        if abs(step - 1) < 1e-16 { break }
    }
    return result
}

/// Student's t distribution with ν degrees of freedom.
public enum StudentT {
    /// P(T ≤ t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0, and ½·I_{ν/(ν+t²)}(ν/2, ½) for t < 0.
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "degrees of freedom must be positive")
        if t.isNaN { return .nan }
        let tail = 0.5 * regularizedIncompleteBeta(nu / 2, 0.5, nu / (nu + t * t))
        return t >= 0 ? 1 - tail : tail
    }

    /// P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, ½): the two-sided p-value of a t statistic.
    public static func twoSidedP(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        t.isNaN ? .nan : regularizedIncompleteBeta(nu / 2, 0.5, nu / (nu + t * t))
    }

    /// The t with P(T ≤ t) = p, by bisection of the monotone cdf to 1e-13 relative.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1, "p must lie in (0, 1)")
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        var (low, high) = (0.0, 1.0)
        while cdf(high, degreesOfFreedom: nu) < p { high *= 2 }
        while high - low > 1e-13 * high {
            let mid = 0.5 * (low + high)
            if cdf(mid, degreesOfFreedom: nu) < p { low = mid } else { high = mid }
        }
        return 0.5 * (low + high)
    }
}

/// The paired comparison of n differences: the mean, its 95% confidence interval
/// mean ± t_{0.975, n−1}·s/√n, the effect size d_z = mean/s, and the two-sided p-value of the
/// paired t test (t = mean/(s/√n), n − 1 degrees of freedom). NaN where n < 2 or s = 0.
public struct PairedComparison: Sendable, Equatable {
    public let n: Int
    public let mean: Double
    public let lower: Double, upper: Double
    public let effectSize: Double
    public let p: Double

    public init(differences x: [Double]) {
        let (m, sd) = meanAndSD(x)
        n = x.count
        mean = m
        guard x.count >= 2, sd > 0 else {
            (lower, upper, effectSize, p) = (.nan, .nan, .nan, .nan)
            return
        }
        let nu = Double(x.count - 1), sem = sd / Double(x.count).squareRoot()
        let half = StudentT.quantile(0.975, degreesOfFreedom: nu) * sem
        (lower, upper) = (m - half, m + half)
        effectSize = m / sd
        p = StudentT.twoSidedP(m / sem, degreesOfFreedom: nu)
    }
}

/// Holm's step-down adjustment of m p-values (family-wise error control): with the p-values
/// sorted ascending, p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)); returned in the input order.
/// NaN p-values stay NaN and do not count in m.
public func holmAdjusted(_ p: [Double]) -> [Double] {
    let order = p.indices.filter { !p[$0].isNaN }.sorted { (p[$0], $0) < (p[$1], $1) }
    var adjusted = p, running = 0.0
    for (rank, index) in order.enumerated() {
        running = max(running, min(1, Double(order.count - rank) * p[index]))
        adjusted[index] = running
    }
    return adjusted
}
