/// BioRNN: rate RNNs, biologically plausible learning rules, Lyapunov analysis and gradient
/// flossing. The equations are in `shared/design.md` §2–§5 and, for each piece of code, in the
/// doc comment above it.
public enum BioRNN {
    public static let version = "0.1.0"
}
