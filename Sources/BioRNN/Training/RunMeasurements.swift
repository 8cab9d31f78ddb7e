/// The Lyapunov measurements of a training run (``LyapunovOptions/trainingRun``, both seeds the
/// run's seed): λ_max from one tangent vector, driven by the first held-out trial (repeated) and
/// autonomous, and the first few exponents by the QR method.
struct RunMeasurements {
    let heldout: Batch
    let seed: UInt64

    var options: LyapunovOptions { LyapunovOptions.trainingRun.seeded(seed) }

    /// λ_max driven by the first held-out trial, or autonomous (zero input).
    func lambdaMax(_ model: RNN, driven: Bool) throws -> Double {
        let map = driven ? RNNMap(model, drivenBy: heldout) : RNNMap(model)
        return try Lyapunov.maximalExponent(of: map, options: options).exponents[0]
    }

    /// λ_max driven and autonomous.
    func lambdaMax(_ model: RNN) throws -> LambdaMax {
        LambdaMax(driven: try lambdaMax(model, driven: true), autonomous: try lambdaMax(model, driven: false))
    }

    /// The first min(3, N) exponents, driven by the first held-out trial.
    func leadingExponents(_ model: RNN) throws -> [Double] {
        try Lyapunov.spectrum(of: RNNMap(model, drivenBy: heldout), k: min(3, model.units), options: options).exponents
    }
}
