import Foundation

/// The loss E of a trajectory on a batch and its gradient with respect to the outputs, G_t = ∂E/∂y_t
/// (time-major like `Trajectory.y`):
///
///     mse:  E = ½·Σ_{t,b} m[t,b]·‖y − target‖² / B,             G = m·(y − target) / B
///     xent: E = Σ_{t,b} m[t,b]·(−log softmax(y)[label]) / B,    G = m·(softmax(y) − onehot(label)) / B
///
/// Labels of masked-out steps are ignored. Softmax subtracts max(y) first (no overflow).
public func lossAndOutputGradient(_ trajectory: Trajectory, _ batch: Batch) -> (loss: Double, gradient: [Double]) {
    let (T, B, O) = (batch.steps, batch.trials, trajectory.outputs)
    let y = trajectory.y
    var g = [Double](repeating: 0, count: T * B * O)
    var loss = 0.0
    let invB = 1 / Double(B)
    switch batch.lossKind {
    case .mse:
        let target = batch.targets!
        precondition(batch.targetSize == O, "targets have width \(batch.targetSize), the model has \(O) outputs")
        for row in 0..<(T * B) where batch.mask[row] != 0 {
            let m = batch.mask[row]
            for k in 0..<O {
                let e = y[row * O + k] - target[row * O + k]
                loss += 0.5 * m * e * e * invB
                g[row * O + k] = m * e * invB
            }
        }
    case .xent:
        let labels = batch.labels!
        for row in 0..<(T * B) where batch.mask[row] != 0 {
            let m = batch.mask[row]
            let label = labels[row]
            precondition(label >= 0 && label < O, "label \(label) outside 0..<\(O)")
            var top = -Double.infinity
            for k in 0..<O { top = max(top, y[row * O + k]) }
            var z = 0.0
            for k in 0..<O { z += exp(y[row * O + k] - top) }
            let logZ = top + log(z)
            loss += m * (logZ - y[row * O + label]) * invB
            for k in 0..<O {
                let p = exp(y[row * O + k] - logZ)
                g[row * O + k] = m * (p - (k == label ? 1 : 0)) * invB
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
