import ArgumentParser
import BioRNN
import Foundation

@main
struct BioRNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biornn",
        abstract: "Train rate RNNs with biologically plausible learning rules, measure their Lyapunov spectra, and repair poor initial connectivity with gradient flossing.",
        discussion: "Machine-readable output goes to stdout with --json; progress goes to stderr when it is a terminal. Bad input exits with status 2 and a one-line error naming the field or file.",
        version: biornnVersion,
        subcommands: [ReproduceCommand.self, TrainCommand.self, GradientCommand.self, ConformCommand.self, LyapunovCommand.self, FlossCommand.self, AlignCommand.self, SweepCommand.self, CollectCommand.self, ReportCommand.self, TaskCommand.self, BenchCommand.self, GoldenCommand.self]
    )

    /// Parses and runs, mapping every failure to the contract of “The Command Line” in the
    /// documentation: help and version exit 0; bad input (unknown options, invalid values,
    /// unreadable or malformed files) prints one line `biornn: error: …` on stderr and exits 2;
    /// a command may choose another status (`train`: 3 for a diverged run).
    static func main() {
        restartWithBetterBLASKernels()
        keepFreedMemory()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exitForError(error)
        }
    }

    static func exitForError(_ error: Error) -> Never {
        if let input = error as? InputError { fail(input.message) }
        // A status a command chose (train's 3 for a diverged run), its line already printed.
        if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))
            Foundation.exit(0)
        }
        let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        fail(message)
    }

    static func fail(_ message: String) -> Never {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("biornn: error: \(line)\n".utf8))
        Foundation.exit(2)
    }

    /// When OpenBLAS fell back to kernels far below this CPU (see `BLAS.betterCoreType`), run
    /// this same command again, once, with OPENBLAS_CORETYPE set — before anything is read or
    /// written. A user's own OPENBLAS_CORETYPE is left alone.
    static func restartWithBetterBLASKernels() {
        guard let core = BLAS.betterCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: carry on with the kernels we have.
    }

    /// Every gradient allocates a few T·B·N arrays (megabytes). By default glibc serves such
    /// blocks with mmap and returns them to the kernel on free, so every training step paid
    /// for fresh zeroed pages (page faults were 15% of an e-prop step at N = 256). Raising the
    /// mmap and trim thresholds keeps freed memory in the heap for the next step.
    /// (mallopt is not in Swift's Glibc module; it is looked up, with <malloc.h>'s constants.)
    static func keepFreedMemory() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let (mmapThreshold, trimThreshold): (Int32, Int32) = (-3, -1)   // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        _ = mallopt(mmapThreshold, 1 << 30)
        _ = mallopt(trimThreshold, 1 << 30)
    }
}
