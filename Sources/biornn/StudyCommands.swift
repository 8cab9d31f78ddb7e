import ArgumentParser
import BioRNN
import Foundation

/// Runs a sweep with progress: on a terminal, one line with runs done / total and the time left;
/// otherwise one line per finished run on stderr, so that the log of a batch job shows progress.
/// Then prints what happened: "sweep: R runs: a trained, b already complete, c held by another process".
/// With `jobs` > 1, `jobs − 1` worker processes share the directory (`SweepWorkers`).
func runSweep(_ config: SweepConfig, into dir: String, shard: (index: Int, count: Int), jobs: Int) throws {
    let workers = try SweepWorkers(count: jobs - 1, config: config, dir: dir, shard: shard)
    let line = ProgressLine(name: "sweep", unit: "runs")
    let outcomes = try SweepRunner.run(config, into: dir, shard: shard) { done, total, name, outcome in
        if SweepWorkers.parentIsGone { exit(1) }
        if Output.progressIsVisible {
            line.update(done, of: total, detail: name)
        } else {
            Output.note("sweep: \(done)/\(total) \(name): \(outcome.description)")
        }
    }
    Output.endProgress()
    try workers.wait()
    func count(_ o: SweepRunner.Outcome) -> Int { outcomes.values.filter { $0 == o }.count }
    print("sweep: \(outcomes.count) runs: \(count(.trained)) trained, \(count(.skippedComplete)) already complete, "
          + "\(count(.skippedClaimed)) held by another process")
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a study grid (task × init × gain × rule × flossing × seed), one directory per run, resumable.",
        discussion: """
            CONFIG is a JSON file: {"tasks": [...], "inits": [...], "gains": [...], "rules": [...], "seeds": [...], \
            "flossing": {"none": null, "local": "mode=local,pre=100"}, "floss_rules": ["eprop"], "iterations": 200, "units": 64, \
            "batch_size": 32, "lr": 0.01, "log_every": 10, "eval_trials": 256}. Every training option (iterations, units, \
            tau_ms, activation, batch_size, optimizer, lr, clip, log_every, eval_trials) is one value or an array, which is one \
            more axis. "networks": [{"init": "dale", "activation": "relu"}, ...] pairs inits with activations instead of \
            "inits"; "floss_seeds" gives the floss_rules their own seeds. Runs with a summary.json are skipped, so an \
            interrupted sweep resumes; a partial run is redone. With --shard i/n only the runs whose index in the grid order \
            is ≡ i (mod n) run; without it, SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT are used when set. \
            Several processes may share one --out: each claims a run (a lock under DIR/.claims) while computing it and skips \
            runs others hold; --jobs N starts N − 1 such processes beside this one. --list prints one command per run (`… --shard i/<runs>`), e.g. for GNU parallel. \
            Progress: a line with the time left on a terminal, otherwise one line per finished run on stderr.
            """
    )

    @Argument(help: "Sweep configuration (JSON).") var config: String
    @Option(help: "Output directory.") var out: String
    @Option(help: "Run only shard i of n (i/n, 0 ≤ i < n).") var shard: String?
    @Flag(help: "Print one command per run (for GNU parallel or another launcher) instead of running.") var list = false
    @Option(help: "Processes working on the sweep at once, each with one OpenBLAS thread.") var jobs = 1

    func run() throws {
        let jobs = try validJobs(jobs)
        let c = try SweepConfig.read(path: config)
        if list {
            for line in SweepRunner.commands(c, configPath: absolutePath(config), into: absolutePath(out), executable: runningExecutable) { print(line) }
            return
        }
        try runSweep(c, into: out, shard: try resolvedShard(shard, environment: ProcessInfo.processInfo.environment), jobs: jobs)
    }

    func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }
}

/// The absolute path of this program (what `--list` prints and `--jobs` starts), or argv[0]
/// where /proc is missing.
var runningExecutable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// `--jobs`: at least 1.
func validJobs(_ jobs: Int) throws -> Int {
    guard jobs >= 1 else { throw InputError("jobs: expected at least 1, got \(jobs)") }
    return jobs
}

/// "i/n", or the Slurm array variables, or the whole grid.
func resolvedShard(_ text: String?, environment env: [String: String]) throws -> (index: Int, count: Int) {
    if let text {
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 0, i < n else {
            throw InputError("shard: expected i/n with 0 ≤ i < n, got '\(text)'")
        }
        return (i, n)
    }
    if let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init), let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init), n >= 1 {
        let i = id - (env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0)
        guard i >= 0 && i < n else { throw InputError("shard: SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN = \(i) is outside 0…\(n - 1)") }
        return (i, n)
    }
    return (0, 1)
}

struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Merge the complete runs of a sweep directory into DIR/results.csv (one row per run) and DIR/curves.csv.")
    @Argument(help: "Sweep directory.") var dir: String

    func run() throws {
        let records = try Collector.collect(dir)
        print("\(records.count) runs → \((dir as NSString).appendingPathComponent("results.csv"))")
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Collect a sweep directory and write DIR/report.md with tables and gnuplot figures (DIR/figures/*.png, *.svg).")
    @Argument(help: "Sweep directory.") var dir: String

    func run() throws {
        try Report.write(dir)
        print((dir as NSString).appendingPathComponent("report.md"))
    }
}

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "The study of Liu, Zhang & Liu (arXiv 2410.11164) end to end: sweep → collect → report.",
        discussion: """
            Grid: 2AF, delay-match-sample, context-dependent decision making and delayed XOR; gains from ordered to \
            chaotic; bptt, eprop, eprop-random and modprop:0.1, each on Gaussian/tanh and Dale/relu networks (ModProp on \
            Dale/relu only); e-prop also flossed before training (local, full), during training (local) and with k = 3, \
            with more seeds for those paired comparisons. --scale quick: \(StudyScale.quick.summary) (minutes; CI's \
            smoke test). default: \(StudyScale.standard.summary) (1.5–2 h on 2 cores). paper: \
            \(StudyScale.paper.summary), for a \
            cluster: with --list it writes DIR/sweep.json and prints one command per run (or run `biornn sweep \
            DIR/sweep.json --out DIR` as a Slurm array), then `biornn report DIR`. Resumable: rerun with the same \
            --out to finish an interrupted study. The design and its calibration are in “The Study” in the documentation.
            """
    )
    @Flag(help: "The quick scale (the same as --scale quick).") var quick = false
    @Option(help: "quick, default or paper.") var scale: String?
    @Option(help: "Output directory.") var out: String
    @Flag(help: "Write DIR/sweep.json and print one command per run instead of running.") var list = false
    @Option(help: "Processes training at once, each with one OpenBLAS thread (default: one per core).") var jobs: Int?

    func run() throws {
        if quick, let scale, scale != "quick" { throw InputError("scale: --quick and --scale \(scale) disagree") }
        let name = quick ? "quick" : scale ?? "default"
        guard let chosen = StudyScale(rawValue: name) else {
            throw InputError("scale: " + unknownName(name, kind: "scale", known: StudyScale.allCases.map(\.rawValue)))
        }
        let config = chosen.config
        if list {
            try Directory.create(out)
            let path = (out as NSString).appendingPathComponent("sweep.json")
            try AtomicFile.write(config.json.serialized + "\n", to: path)
            for command in SweepRunner.commands(config, configPath: path, into: out, executable: runningExecutable) { print(command) }
            return
        }
        try runSweep(config, into: out, shard: (0, 1), jobs: try validJobs(jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        try Report.write(out)
        print((out as NSString).appendingPathComponent("report.md"))
    }
}
