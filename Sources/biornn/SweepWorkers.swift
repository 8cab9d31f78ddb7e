import BioRNN
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The extra processes of `sweep --jobs N` and `reproduce --jobs N`: N − 1 copies of
/// `biornn sweep DIR/sweep.json --out DIR`, working beside this process in the same directory.
/// They need no coordination beyond what any concurrent sweep has: each run is claimed by a lock
/// under DIR/.claims while it is computed (“Resuming, sharing and sharding” in The Study), so
/// every run is trained once.
///
/// Every process then runs one OpenBLAS thread (one process per core beats threads inside a
/// process at the study's sizes, and results do not depend on the thread count). A worker's
/// stderr goes to DIR/.claims/worker-K.log. Foundation starts each worker in its own process
/// group, so a terminal's Ctrl-C would not reach it: this process passes SIGINT, SIGTERM and
/// SIGHUP on to its workers before dying of the signal itself, and a worker whose parent is gone
/// (killed with SIGKILL) stops after its current run. Rerunning resumes as after any interruption.
struct SweepWorkers {
    private var processes: [(process: Process, log: String)] = []

    /// The signals this process passes on to its workers.
    static let passedOn = [SIGINT, SIGTERM, SIGHUP]

    /// The environment variable that tells a worker which process started it.
    static let parentVariable = "BIORNN_SWEEP_PARENT"

    /// Writes `config` to DIR/sweep.json and starts `count` workers on it.
    init(count: Int, config: SweepConfig, dir: String, shard: (index: Int, count: Int)) throws {
        guard count > 0 else { return }
        let configPath = try SweepRunner.prepare(config, in: dir)
        // A launcher may hand us these signals blocked (a test runner's threads do), and the
        // workers inherit the mask: unblock them first, or neither handler nor default action runs.
        var set = sigset_t()
        sigemptyset(&set)
        for signal in Self.passedOn { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        BLAS.threadCount = 1
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment[Self.parentVariable] = String(getpid())
        let claims = (dir as NSString).appendingPathComponent(".claims")
        for k in 1...count {
            let log = (claims as NSString).appendingPathComponent("worker-\(k).log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: runningExecutable)
            p.arguments = ["sweep", configPath, "--out", dir,
                           "--shard", "\(shard.index)/\(shard.count)"]
            p.environment = environment
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle(forWritingAtPath: log)
            try p.run()
            processes.append((p, log))
        }
        runningWorkers = processes.map(\.process.processIdentifier)
        for signal in Self.passedOn { _ = Glibc.signal(signal, stopWorkersAndDie) }
    }

    /// Waits for every worker; a failed worker's last line of stderr becomes this process's error.
    func wait() throws {
        for (p, log) in processes {
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                let last = (try? String(contentsOfFile: log, encoding: .utf8))?
                    .split(separator: "\n").last.map(String.init) ?? "no output"
                throw InputError("jobs: a worker exited with status \(p.terminationStatus): \(last) (log: \(log))")
            }
        }
    }

    /// In a worker, whether the process that started it has died (false outside a worker).
    static var parentIsGone: Bool {
        guard let text = ProcessInfo.processInfo.environment[parentVariable], let parent = Int32(text) else { return false }
        return getppid() != parent
    }
}

/// The workers' process identifiers, for the signal handler (set once, before it is installed).
nonisolated(unsafe) private var runningWorkers: [pid_t] = []

/// Sends the signal on to every worker, then dies of it with the default action.
private func stopWorkersAndDie(_ signal: Int32) {
    for pid in runningWorkers { kill(pid, signal) }
    _ = Glibc.signal(signal, SIG_DFL)
    raise(signal)
}
