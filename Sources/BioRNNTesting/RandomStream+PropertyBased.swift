import BioRNN
import PropertyBased

/// Lets swift-property-based generators draw from BioRNN's own seeded stream, so that golden
/// inputs are reproducible: `generator.run(using: &stream)` with `RandomStream(seed: ...)`.
extension RandomStream: SeededRandomNumberGenerator {
    public var currentSeed: [UInt64] { [state.0, state.1, state.2, state.3] }

    public init?(seed: [UInt64]) {
        guard seed.count == 4 else { return nil }
        self.init(state: (seed[0], seed[1], seed[2], seed[3]))
    }

    /// Required by the protocol for unseeded use; BioRNN's own code and golden tests never call it.
    public init() { self.init(seed: UInt64.random(in: .min ... .max)) }
}
