import BioRNN
import Foundation

/// A deliberately plain implementation of the model (BioRNN's TheModel article) — one trial at a time, scalar loops, no
/// BLAS — used as the independent reference for the batched production forward pass and as the
/// function that finite differences differentiate.
public enum ReferenceRNN {
    /// Outputs y_t (t = 1…T) of trial b: y[t−1][k].
    public static func outputs(_ model: RNN, _ batch: Batch, trial b: Int) -> [[Double]] {
        let p = model.parameters, phi = model.activation, alpha = model.alpha
        let (N, I, O, B) = (model.units, model.inputs, model.outputs, batch.trials)
        var a = p.h0
        var ys: [[Double]] = []
        for t in 0..<batch.steps {
            let r = a.map { phi($0) }
            var next = [Double](repeating: 0, count: N)
            for j in 0..<N {
                var drive = p.bRec[j]
                for k in 0..<N { drive += p.wRec[j, k] * r[k] }
                for i in 0..<I { drive += p.wIn[j, i] * batch.inputs[(t * B + b) * I + i] }
                next[j] = (1 - alpha) * a[j] + alpha * drive
            }
            a = next
            let rNew = a.map { phi($0) }
            ys.append((0..<O).map { k in p.bOut[k] + (0..<N).reduce(0) { $0 + p.wOut[k, $1] * rNew[$1] } })
        }
        return ys
    }

    /// All pre-activations a_t (t = 0…T) of trial b.
    public static func states(_ model: RNN, _ batch: Batch, trial b: Int) -> [[Double]] {
        let p = model.parameters, phi = model.activation, alpha = model.alpha
        let (N, I, B) = (model.units, model.inputs, batch.trials)
        var states = [p.h0]
        for t in 0..<batch.steps {
            let a = states.last!, r = a.map { phi($0) }
            states.append((0..<N).map { j in
                var drive = p.bRec[j]
                for k in 0..<N { drive += p.wRec[j, k] * r[k] }
                for i in 0..<I { drive += p.wIn[j, i] * batch.inputs[(t * B + b) * I + i] }
                return (1 - alpha) * a[j] + alpha * drive
            })
        }
        return states
    }

    /// The loss of the model (BioRNN's TheModel article) summed trial by trial.
    public static func loss(_ model: RNN, _ batch: Batch) -> Double {
        let (B, O) = (batch.trials, model.outputs)
        var total = 0.0
        for b in 0..<B {
            let ys = outputs(model, batch, trial: b)
            for t in 0..<batch.steps {
                let m = batch.mask[t * B + b]
                guard m != 0 else { continue }
                let y = ys[t]
                if let targets = batch.targets {
                    for k in 0..<O { let e = y[k] - targets[(t * B + b) * O + k]; total += 0.5 * m * e * e }
                } else {
                    let label = batch.labels![t * B + b]
                    let top = y.max()!
                    let logZ = top + log(y.reduce(0) { $0 + exp($1 - top) })
                    total += m * (logZ - y[label])
                }
            }
        }
        return total / Double(B)
    }
}

/// A random small model and batch for property tests, built entirely from one seed so that a
/// printed case replays exactly.
public struct RandomNetworkCase: Sendable, CustomStringConvertible {
    public let seed: UInt64
    public let units: Int, inputs: Int, outputs: Int, steps: Int, trials: Int
    public let alpha: Double
    public let activation: Activation
    public let loss: LossKind
    public let gain: Double

    public init(seed: UInt64, units: Int, inputs: Int, outputs: Int, steps: Int, trials: Int,
                alpha: Double, activation: Activation, loss: LossKind, gain: Double = 1.2) {
        (self.seed, self.units, self.inputs, self.outputs, self.steps, self.trials) = (seed, units, inputs, outputs, steps, trials)
        (self.alpha, self.activation, self.loss, self.gain) = (alpha, activation, loss, gain)
    }

    public var description: String {
        "RandomNetworkCase(seed: \(seed), units: \(units), inputs: \(inputs), outputs: \(outputs), steps: \(steps), trials: \(trials), alpha: \(alpha), activation: .\(activation), loss: .\(loss), gain: \(gain))"
    }

    /// Every parameter random (biases and h0 too, so that their gradients are exercised);
    /// xent needs at least two classes, so O ≥ 2 there.
    public var model: RNN {
        var rng = RandomStream(seed: seed, purpose: .network)
        let o = loss == .xent ? max(outputs, 2) : outputs
        let p = Parameters(
            wIn: .randomNormal(rows: units, cols: inputs, sd: 1, using: &rng),
            wRec: .randomNormal(rows: units, cols: units, sd: gain / Double(units).squareRoot(), using: &rng),
            wOut: .randomNormal(rows: o, cols: units, sd: 1 / Double(units).squareRoot(), using: &rng),
            bRec: (0..<units).map { _ in 0.3 * rng.normal() }, bOut: (0..<o).map { _ in 0.3 * rng.normal() },
            h0: (0..<units).map { _ in 0.5 * rng.normal() })
        return RNN(alpha: alpha, activation: activation, parameters: p)
    }

    /// Random inputs, targets or labels, and a random mask with at least one step kept.
    public var batch: Batch {
        var rng = RandomStream(seed: seed, purpose: .data)
        let o = loss == .xent ? max(outputs, 2) : outputs
        let inputs = (0..<(steps * trials * inputs)).map { _ in rng.normal() }
        var mask = (0..<(steps * trials)).map { _ in rng.bernoulli(0.7) ? 1.0 : 0.0 }
        mask[mask.count - 1] = 1
        if loss == .mse {
            return Batch(steps: steps, trials: trials, inputSize: self.inputs, inputs: inputs,
                         targets: (0..<(steps * trials * o)).map { _ in rng.normal() }, targetSize: o, mask: mask)
        }
        return Batch(steps: steps, trials: trials, inputSize: self.inputs, inputs: inputs,
                     labels: (0..<(steps * trials)).map { _ in rng.index(below: o) }, mask: mask)
    }
}
