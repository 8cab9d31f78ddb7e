// BioRNN: rate RNNs, biologically plausible learning rules, Lyapunov analysis and gradient
// flossing. The reference is the DocC catalog in BioRNN.docc (start at BioRNN.md); each piece of
// code states its equation in the doc comment above it and cites the article that holds the rest.

/// The library's version, recorded in every run's config.json.
public let biornnVersion = "0.1.0"
