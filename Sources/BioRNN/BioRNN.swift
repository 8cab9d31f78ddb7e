// BioRNN: rate RNNs, biologically plausible learning rules, Lyapunov analysis and gradient
// flossing. The equations are in the design reference §2–§5 and, for each piece of code, in the
// doc comment above it.

/// The library's version, recorded in every run's config.json.
public let biornnVersion = "0.1.0"
