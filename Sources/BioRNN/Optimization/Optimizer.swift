import CKernels
import Foundation

/// Gradient-descent optimisers with optional gradient-norm clipping. Frozen tensors are never touched.
public struct OptimizerConfig: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable { case sgd, adam, adamw }
    public var kind: Kind = .adam
    public var learningRate: Double = 0.01
    /// SGD momentum μ.
    public var momentum: Double = 0.9
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    /// AdamW's decoupled weight decay λ.
    public var weightDecay: Double = 0.01
    /// Clip the gradient to this Euclidean norm (over the trained tensors); nil: no clipping.
    public var clipNorm: Double? = 1.0

    public init(kind: Kind = .adam, learningRate: Double = 0.01, clipNorm: Double? = 1.0) {
        self.kind = kind
        self.learningRate = learningRate
        self.clipNorm = clipNorm
    }
}

public struct Optimizer: Sendable {
    public let config: OptimizerConfig
    public let trainable: TrainableSet
    private var first: Parameters?    // SGD velocity, or Adam's m
    private var second: Parameters?   // Adam's v (zeros, unused, under SGD)
    public private(set) var steps = 0

    public init(_ config: OptimizerConfig, trainable: TrainableSet = .all) {
        self.config = config
        self.trainable = trainable
    }

    /// One update of `params` from `gradients`:
    ///
    ///     clip:  g ← g·min(1, c/‖g‖)
    ///     sgd:   v ← μ·v + g;                     θ ← θ − η·v
    ///     adam:  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  m̂ = m/(1−β₁ᵗ);  v̂ = v/(1−β₂ᵗ)
    ///            θ ← θ − η·m̂/(√v̂ + ε)
    ///     adamw: θ ← θ − η·(m̂/(√v̂ + ε) + λ·θ)
    public mutating func update(_ params: inout Parameters, with gradients: Parameters) {
        let names = trainable.names
        var g = gradients
        if let c = config.clipNorm {
            let norm = g.norm(over: names)
            if norm > c {
                let s = c / norm
                for (name, path) in Parameters.tensors where names.contains(name) { g[keyPath: path] = g[keyPath: path].map { $0 * s } }
            }
        }
        steps += 1
        let eta = config.learningRate
        // The moments are taken out of the optimiser first, so that each tensor is updated in
        // place rather than copied on write.
        var m = first ?? Parameters(zerosLike: params), v = second ?? Parameters(zerosLike: params)
        (first, second) = (nil, nil)
        let (mu, b1, b2, epsilon) = (config.momentum, config.beta1, config.beta2, config.epsilon)
        let c1 = 1 - pow(b1, Double(steps)), c2 = 1 - pow(b2, Double(steps))
        let decay = config.kind == .adamw ? config.weightDecay : 0
        for (name, path) in Parameters.tensors where names.contains(name) {
            g[keyPath: path].withUnsafeBufferPointer { g in
                m[keyPath: path].withUnsafeMutableBufferPointer { m in
                    v[keyPath: path].withUnsafeMutableBufferPointer { v in
                        params[keyPath: path].withUnsafeMutableBufferPointer { p in
                            switch config.kind {
                            case .sgd:
                                for i in p.indices { m[i] = mu * m[i] + g[i]; p[i] -= eta * m[i] }
                            case .adam, .adamw:   // the equations above, vectorised: the same bits (<doc:Performance#The-optimiser>)
                                guard let pp = p.baseAddress else { break }
                                biornn_adam(p.count, pp, m.baseAddress!, v.baseAddress!, g.baseAddress!, b1, b2, c1, c2, eta, epsilon, decay)
                            }
                        }
                    }
                }
            }
        }
        (first, second) = (m, v)
    }
}

extension Parameters {
    /// Zeros of the same shapes.
    public init(zerosLike p: Parameters) { self.init(zerosWithUnits: p.units, inputs: p.inputs, outputs: p.outputs) }
}
