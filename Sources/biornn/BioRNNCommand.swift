import ArgumentParser
import BioRNN

@main
struct BioRNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biornn",
        abstract: "Train rate RNNs with biologically plausible learning rules, measure their Lyapunov spectra, and repair poor initial connectivity with gradient flossing.",
        discussion: "Machine-readable output goes to stdout with --json; progress goes to stderr when it is a terminal. Bad input exits with status 2 and a one-line error naming the field or file.",
        version: BioRNN.version,
        subcommands: []
    )
}
