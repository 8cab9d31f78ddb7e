import ArgumentParser
import BioRNN
import Foundation

/// Runs a sweep with progress: on a terminal, one line with runs done / total and the time left;
/// otherwise one line per finished run on stderr, so that the log of a batch job shows progress.
/// Then prints what happened: "sweep: R runs: a trained, b already complete, c held by another process".
func runSweep(_ config: SweepConfig, into dir: String, shard: (index: Int, count: Int)) throws {
    let line = ProgressLine(name: "sweep", unit: "runs")
    let outcomes = try SweepRunner.run(config, into: dir, shard: shard) { done, total, name, outcome in
        if Output.progressIsVisible {
            line.update(done, of: total, detail: name)
        } else {
            Output.note("sweep: \(done)/\(total) \(name): \(outcome.description)")
        }
    }
    Output.endProgress()
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
            "batch_size": 32, "lr": 0.01, "log_every": 10, "eval_trials": 256}. Runs with a summary.json are skipped, so an \
            interrupted sweep resumes; a partial run is redone. With --shard i/n only the runs whose index in the grid order \
            is ≡ i (mod n) run; without it, SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT are used when set. \
            Several processes may share one --out: each claims a run (a lock under DIR/.claims) while computing it and skips \
            runs others hold. --list prints one command per run (`… --shard i/<runs>`), e.g. for GNU parallel. \
            Progress: a line with the time left on a terminal, otherwise one line per finished run on stderr.
            """
    )

    @Argument(help: "Sweep configuration (JSON).") var config: String
    @Option(help: "Output directory.") var out: String
    @Option(help: "Run only shard i of n (i/n, 0 ≤ i < n).") var shard: String?
    @Flag(help: "Print one command per run (for GNU parallel or another launcher) instead of running.") var list = false

    func run() throws {
        let c = try SweepConfig.read(path: config)
        if list {
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            for line in SweepRunner.commands(c, configPath: absolutePath(config), into: absolutePath(out), executable: executable) { print(line) }
            return
        }
        try runSweep(c, into: out, shard: try resolvedShard(shard, environment: ProcessInfo.processInfo.environment))
    }

    func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }
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
            Grid: 2AF (perceptual-decision) and delayed XOR; gains spanning ordered to chaotic; rules bptt, eprop, \
            eprop-random and modprop (Dale/relu networks); e-prop also with local and full pre-training flossing. \
            --quick: gains 0.5, 1, 2, 3, 3 seeds, N = 32, 100 iterations (minutes). Default: gains 0.5, 0.75, 1, 1.5, 2, 3, \
            5 seeds, N = 64, 300 iterations. Resumable: rerun with the same --out to finish an interrupted study. \
            The sweep configuration is written to DIR/sweep.json.
            """
    )
    @Flag(help: "The small version of the study.") var quick = false
    @Option(help: "Output directory.") var out: String

    static func config(quick: Bool) throws -> SweepConfig {
        var c = SweepConfig(tasks: ["perceptual-decision", "delayed-xor"],
                            gains: quick ? [0.5, 1, 2, 3] : [0.5, 0.75, 1, 1.5, 2, 3],
                            rules: ["bptt", "eprop", "eprop-random", "modprop"],
                            seeds: quick ? [1, 2, 3] : [1, 2, 3, 4, 5])
        try c.setFlossing([("none", nil), ("local", "mode=local,k=1,window=200,transient=300,pre=100"),
                           ("full", "mode=full,k=1,window=50,transient=300,pre=100")])
        c.flossRules = ["eprop"]
        c.iterations = quick ? 100 : 300
        c.units = quick ? 32 : 64
        c.logEvery = 10
        return c
    }

    func run() throws {
        try runSweep(try Self.config(quick: quick), into: out, shard: (0, 1))
        try Report.write(out)
        print((out as NSString).appendingPathComponent("report.md"))
    }
}
