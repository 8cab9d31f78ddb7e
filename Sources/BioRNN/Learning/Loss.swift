import Foundation

/// The loss E of a trajectory on a batch and its gradient with respect to the outputs, G_t = ∂E/∂y_t
/// (time-major like `Trajectory.y`):
///
///     mse:  E = ½·Σ_{t,b} m[t,b]·‖y − target‖² / B,             G = m·(y − target) / B
///     xent: E = Σ_{t,b} m[t,b]·(−log softmax(y)[label]) / B,    G = m·(softmax(y) − onehot(label)) / B
///
/// Labels of masked-out steps are ignored. Softmax subtracts max(y) first (no overflow).
public func lossAndOutputGradient(_ trajectory: Trajectory, _ batch: Batch) -> (loss: Double, gradient: [Double]) {
    lossAndOutputGradient(outputs: trajectory.y, batch, rows: 0..<(batch.steps * batch.trials))
}

/// The loss terms and G of step t (1…T) alone: E_t and the B×O block G_t, from that step's
/// outputs y_t (B×O). Summed over t they are `lossAndOutputGradient`'s E and G (online rules).
public func stepLossAndOutputGradient(outputs y: [Double], _ batch: Batch, step t: Int) -> (loss: Double, gradient: [Double]) {
    precondition(t >= 1 && t <= batch.steps, "step \(t) outside 1…\(batch.steps)")
    return lossAndOutputGradient(outputs: y, batch, rows: ((t - 1) * batch.trials)..<(t * batch.trials))
}

/// E and G over a range of time-major rows (t−1)·B + b; `y` and the result hold those rows only.
func lossAndOutputGradient(outputs y: [Double], _ batch: Batch, rows: Range<Int>) -> (loss: Double, gradient: [Double]) {
    let O = y.count / max(rows.count, 1), first = rows.lowerBound
    precondition(y.count == rows.count * O, "outputs: wrong size")
    var g = [Double](repeating: 0, count: y.count)
    var loss = 0.0
    let invB = 1 / Double(batch.trials)
    switch batch.lossKind {
    case .mse:
        let target = batch.targets!
        precondition(batch.targetSize == O, "targets have width \(batch.targetSize), the model has \(O) outputs")
        for row in rows where batch.mask[row] != 0 {
            let m = batch.mask[row], local = row - first
            for k in 0..<O {
                let e = y[local * O + k] - target[row * O + k]
                loss += 0.5 * m * e * e * invB
                g[local * O + k] = m * e * invB
            }
        }
    case .xent:
        let labels = batch.labels!
        for row in rows where batch.mask[row] != 0 {
            let m = batch.mask[row], local = row - first
            let label = labels[row]
            precondition(label >= 0 && label < O, "label \(label) outside 0..<\(O)")
            var top = -Double.infinity
            for k in 0..<O { top = max(top, y[local * O + k]) }
            var z = 0.0
            for k in 0..<O { z += exp(y[local * O + k] - top) }
            let logZ = top + log(z)
            loss += m * (logZ - y[local * O + label]) * invB
            for k in 0..<O {
                let p = exp(y[local * O + k] - logZ)
                g[local * O + k] = m * (p - (k == label ? 1 : 0)) * invB
            }
        }
    }
    return (loss, g)
}

/// Fraction of masked steps whose arg-max output is the label (xent batches; nil for mse).
public func accuracy(_ trajectory: Trajectory, _ batch: Batch) -> Double? {
    guard let labels = batch.labels else { return nil }
    let O = trajectory.outputs
    var correct = 0.0, total = 0.0
    for row in 0..<(batch.steps * batch.trials) where batch.mask[row] != 0 {
        var best = 0
        for k in 1..<O where trajectory.y[row * O + k] > trajectory.y[row * O + best] { best = k }
        total += 1
        if best == labels[row] { correct += 1 }
    }
    return total > 0 ? correct / total : nil
}
