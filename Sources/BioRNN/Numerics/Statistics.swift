/// Mean and sample standard deviation.
public func meanAndSD(_ x: [Double]) -> (mean: Double, sd: Double) {
    guard !x.isEmpty else { return (.nan, .nan) }
    let mean = x.reduce(0, +) / Double(x.count)
    guard x.count > 1 else { return (mean, 0) }
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count - 1)
    return (mean, variance.squareRoot())
}
