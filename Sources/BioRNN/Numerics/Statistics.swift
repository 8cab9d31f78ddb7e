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
