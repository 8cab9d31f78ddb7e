import Foundation

/// Delayed XOR on a random bit stream (the task family of Engelken's gradient-flossing study):
/// the input is a stream of random bits s_t ∈ {−1, +1}; at every step t ≥ 2d the network must
/// report bit_{t−d} XOR bit_{t−2d} (class 1 when the two bits differ). Long delays d demand
/// long memory, which is where initial connectivity and flossing matter. Default d = 3, T = 40,
/// one bit per membrane time constant (dt = 100 ms, so α = 1 at the default τ = 100 ms: the
/// discrete-time network of Engelken's study). Calibration, N = 64, 300 iterations, seed 1:
/// BPTT learns it from g = 1 (accuracy 1.0) but not from g = 3; e-prop reaches 0.80, 0.94 and
/// 0.68 from g = 1, 1.5 and 2 and stays at chance from g = 0.5 and 3 — so the initial gain
/// matters. With d = 4, e-prop stayed at chance everywhere; with α = 0.1 (dt = 10 ms), so did BPTT.
public struct DelayedXOR: Task {
    public let name = "delayed-xor"
    public let summary = "Report the XOR of the input bits d and 2d steps ago"
    public let source = "Engelken, Gradient Flossing, NeurIPS 2023 (delayed XOR task family)"
    public let inputSize = 1
    public let outputSize = 2
    public let dtMs = 100.0
    public let lossKind = LossKind.xent
    public let criterion = 0.8
    public let delay: Int
    public let steps: Int

    public init(delay: Int = 3, steps: Int = 40) {
        precondition(delay >= 1 && steps > 2 * delay)
        self.delay = delay
        self.steps = steps
    }

    public func sample(trials: Int, using rng: inout RandomStream) -> Batch {
        var builder = BatchBuilder(steps: steps, trials: trials, inputSize: inputSize, outputSize: outputSize, lossKind: lossKind)
        for b in 0..<trials {
            let bits = (0..<steps).map { _ in rng.index(below: 2) }
            for t in 0..<steps {
                builder.setInput(t: t, trial: b, channel: 0, bits[t] == 1 ? 1 : -1)
                if t >= 2 * delay {
                    builder.setLabel(t: t, trial: b, bits[t - delay] ^ bits[t - 2 * delay])
                    builder.setMask(t: t, trial: b)
                }
            }
        }
        return builder.batch
    }
}

/// Pattern generation (e-prop's regression task, Bellec et al. 2020): reproduce a fixed sum of
/// sinusoids y*(t) = Σ_k A_k sin(2π f_k t + φ_k), f = (1, 2, 3, 5) Hz, from a frozen random
/// input pattern. A_k and φ_k, and the input (I channels of smoothed frozen noise), come from a
/// fixed task seed, so every trial is the same pattern; the data stream is not used.
/// 1 s at dt = 10 ms (T = 100), I = 8, mse, all steps masked in.
public struct PatternGeneration: Task {
    public let name = "pattern-generation"
    public let summary = "Regression: generate a fixed sum of four sinusoids from a frozen input pattern"
    public let source = "Bellec et al., e-prop, Nat. Commun. 2020 (pattern generation)"
    public let inputSize = 8
    public let outputSize = 1
    public let dtMs = 10.0
    public let steps = 100
    public let lossKind = LossKind.mse
    /// Learned when the loss falls to 10% of its initial value.
    public let criterion = 0.1
    let frozenInput: [Double]
    let target: [Double]

    public init() {
        var rng = RandomStream(seed: 0xE960, purpose: .frozenPattern)
        let freqs = [1.0, 2, 3, 5]
        let amps = freqs.map { _ in rng.uniform(0.5, 2) }
        let phases = freqs.map { _ in rng.uniform(0, 2 * .pi) }
        let (T, I, dt) = (steps, inputSize, dtMs / 1000)
        var target = [Double](repeating: 0, count: T)
        for t in 0..<T {
            var v = 0.0
            for k in 0..<4 { v += amps[k] * sin(2 * .pi * freqs[k] * Double(t) * dt + phases[k]) }
            target[t] = v / 4
        }
        // Frozen noise, smoothed by an exponential filter with a 50 ms time constant.
        var input = [Double](repeating: 0, count: T * I)
        let decay = exp(-dtMs / 50)
        for i in 0..<I {
            var s = 0.0
            for t in 0..<T { s = decay * s + (1 - decay) * 3 * rng.normal(); input[t * I + i] = s }
        }
        self.frozenInput = input
        self.target = target
    }

    public func sample(trials: Int, using rng: inout RandomStream) -> Batch {
        var builder = BatchBuilder(steps: steps, trials: trials, inputSize: inputSize, outputSize: outputSize, lossKind: lossKind)
        for b in 0..<trials {
            for t in 0..<steps {
                for i in 0..<inputSize { builder.setInput(t: t, trial: b, channel: i, frozenInput[t * inputSize + i]) }
                builder.setTarget(t: t, trial: b, output: 0, target[t])
                builder.setMask(t: t, trial: b)
            }
        }
        return builder.batch
    }
}
