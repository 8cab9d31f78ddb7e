import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("biornn sweep: kill -9 and resume (end to end)")
struct SweepCLITests {
    @Test("a sweep killed with SIGKILL at random moments, then rerun, keeps every finished run and ends with an uninterrupted sweep's results")
    func killAndResume() throws {
        let dir = try CLI.temporaryDirectory()
        let config = """
            {"tasks": ["delayed-xor"], "gains": [0.5, 1, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
             "iterations": 400, "units": 24, "batch_size": 8, "log_every": 20, "eval_trials": 32}
            """
        try config.write(toFile: "\(dir)/sweep.json", atomically: true, encoding: .utf8)
        // Uninterrupted reference, timed: one run's share of it scales the kill moments below.
        let started = DispatchTime.now().uptimeNanoseconds
        #expect(try CLI.run(["sweep", "\(dir)/sweep.json", "--out", "\(dir)/reference"]).status == 0)
        let perRun = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 / 12
        #expect(try CLI.run(["collect", "\(dir)/reference"]).status == 0)
        // Interrupted: kill -9 at seeded random moments (anywhere in training or in writing files),
        // five times over. Each attempt waits until a seeded number of runs is complete (1–3 more,
        // leaving at least 3 of 12) and then kills within one run's time, so the kills land inside
        // the sweep however fast the machine and the code are. After each kill, every run that was
        // complete before it is byte for byte intact.
        var rng = RandomStream(seed: 7, name: "kill-moments")
        var complete: [String: Data] = [:]      // run → its summary.json
        var killedWhileRunning = 0, completeAfterKills: [Int] = []
        for attempt in 0..<5 {
            let process = Process()
            process.executableURL = CLI.executable
            process.arguments = ["sweep", "\(dir)/sweep.json", "--out", "\(dir)/killed"]
            process.environment = CLI.childEnvironment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let target = min(complete.count + 1 + Int(rng.uniform(0, 3)), 9)
            while process.isRunning, ((try? Collector.read("\(dir)/killed"))?.count ?? 0) < target { usleep(2000) }
            usleep(UInt32(rng.uniform(0, 1) * perRun * 1e6))
            if process.isRunning { killedWhileRunning += 1 }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            for (run, summary) in complete {
                #expect(FileManager.default.contents(atPath: "\(dir)/killed/\(run)/summary.json") == summary, "attempt \(attempt): \(run) changed")
            }
            for record in try Collector.read("\(dir)/killed") where complete[record.run] == nil {
                complete[record.run] = FileManager.default.contents(atPath: "\(dir)/killed/\(record.run)/summary.json")
            }
            completeAfterKills.append(complete.count)
        }
        print("kill -9 and resume: runs complete after each kill \(completeAfterKills), \(killedWhileRunning) of 5 kills hit a running sweep")
        #expect(killedWhileRunning >= 3, "only \(killedWhileRunning) of 5 kills hit a running sweep")
        #expect(complete.count < 12, "the kills left nothing to resume")
        #expect(try CLI.run(["sweep", "\(dir)/sweep.json", "--out", "\(dir)/killed"]).status == 0)
        #expect(try CLI.run(["collect", "\(dir)/killed"]).status == 0)
        let reference = try String(contentsOfFile: "\(dir)/reference/results.csv", encoding: .utf8)
        #expect(try String(contentsOfFile: "\(dir)/killed/results.csv", encoding: .utf8) == reference)
        #expect(reference.split(separator: "\n").count == 1 + 12)
    }

    @Test("--shard and the Slurm array variables select the same runs; bad shards exit 2")
    func shards() throws {
        let dir = try CLI.temporaryDirectory()
        try #"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1, 2, 3], "iterations": 1, "units": 4, "eval_trials": 4, "batch_size": 2}"#
            .write(toFile: "\(dir)/s.json", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["sweep", "\(dir)/s.json", "--out", "\(dir)/a", "--shard", "1/3"]).status == 0)
        #expect(try CLI.run(["sweep", "\(dir)/s.json", "--out", "\(dir)/b"],
                            environment: ["SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_COUNT": "3"]).status == 0)
        #expect(try Collector.read("\(dir)/a").map(\.run) == ["delayed-xor_gaussian_g1_bptt_none_s2"])
        #expect(try Collector.read("\(dir)/b").map(\.run) == ["delayed-xor_gaussian_g1_bptt_none_s2"])
        let bad = try CLI.run(["sweep", "\(dir)/s.json", "--out", "\(dir)/c", "--shard", "3/3"])
        #expect(bad.status == 2 && bad.stderr == "biornn: error: shard: expected i/n with 0 ≤ i < n, got '3/3'\n")
    }

    /// 12 short runs.
    static let smallGrid = """
        {"tasks": ["delayed-xor"], "gains": [0.5, 1, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
         "iterations": 30, "units": 12, "batch_size": 4, "log_every": 10, "eval_trials": 16}
        """

    /// (trained, already complete, held elsewhere) from sweep's last line.
    static func counts(_ stdout: String) -> [Int] {
        let line = stdout.split(separator: "\n").last { $0.hasPrefix("sweep: ") } ?? ""
        return line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.dropFirst().map { $0 }
    }

    @Test("two shards, or two unsharded sweeps, at once in one directory: every run trained exactly once, results.csv as one process's")
    func concurrentWriters() throws {
        let dir = try CLI.temporaryDirectory()
        try Self.smallGrid.write(toFile: "\(dir)/grid.json", atomically: true, encoding: .utf8)
        let single = try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/single"])
        #expect(single.status == 0 && Self.counts(single.stdout) == [12, 0, 0], "\(single.stdout)")
        #expect(try CLI.run(["collect", "\(dir)/single"]).status == 0)
        let reference = try String(contentsOfFile: "\(dir)/single/results.csv", encoding: .utf8)

        let shards = try (0..<2).map { try CLI.start(["sweep", "\(dir)/grid.json", "--out", "\(dir)/shards", "--shard", "\($0)/2"]) }
        let shardResults = try shards.map { try $0.finish() }
        #expect(shardResults.map(\.status) == [0, 0])
        #expect(shardResults.map { Self.counts($0.stdout) } == [[6, 0, 0], [6, 0, 0]])
        #expect(try CLI.run(["collect", "\(dir)/shards"]).status == 0)
        #expect(try String(contentsOfFile: "\(dir)/shards/results.csv", encoding: .utf8) == reference)

        // Unsharded: the two processes share the grid through the per-run claims.
        let both = try (0..<2).map { _ in try CLI.start(["sweep", "\(dir)/grid.json", "--out", "\(dir)/shared"]) }
        let bothResults = try both.map { try $0.finish() }
        #expect(bothResults.map(\.status) == [0, 0])
        let trained = bothResults.map { Self.counts($0.stdout) }
        #expect(trained.map { $0.count } == [3, 3], "\(bothResults.map(\.stdout))")
        #expect(trained.map { $0.first ?? 0 }.reduce(0, +) == 12, "every run trained exactly once: \(trained)")
        #expect(try CLI.run(["collect", "\(dir)/shared"]).status == 0)
        #expect(try String(contentsOfFile: "\(dir)/shared/results.csv", encoding: .utf8) == reference)

        // --jobs 2: one worker process beside this one, the same claims.
        let jobs = try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/jobs", "--jobs", "2"])
        // This process's runs were trained here, found complete or held by the worker; the worker
        // went through the whole grid too (its log, one line per run, since stderr is a file).
        let counts = Self.counts(jobs.stdout)
        #expect(jobs.status == 0 && counts.count == 3 && counts.reduce(0, +) == 12, "\(jobs.stdout)")
        let workerLog = (try? String(contentsOfFile: "\(dir)/jobs/.claims/worker-1.log", encoding: .utf8)) ?? ""
        #expect(workerLog.split(separator: "\n").filter { $0.hasPrefix("sweep: ") && $0.contains("/12 ") }.count == 12, "\(workerLog)")
        #expect(try CLI.run(["collect", "\(dir)/jobs"]).status == 0)
        #expect(try String(contentsOfFile: "\(dir)/jobs/results.csv", encoding: .utf8) == reference)
        let bad = try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/none", "--jobs", "0"])
        #expect(bad.status == 2 && bad.stderr == "biornn: error: jobs: expected at least 1, got 0\n")
    }

    @Test("Ctrl-C (SIGINT) on sweep --jobs 2 stops its worker too; rerunning finishes with one process's results")
    func interruptWorkers() throws {
        let dir = try CLI.temporaryDirectory()
        // 12 runs long enough (400 iterations each) for the interrupt to land inside the sweep.
        try """
            {"tasks": ["delayed-xor"], "gains": [0.5, 1, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
             "iterations": 400, "units": 24, "batch_size": 8, "log_every": 20, "eval_trials": 32}
            """.write(toFile: "\(dir)/grid.json", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/single"]).status == 0)
        #expect(try CLI.run(["collect", "\(dir)/single"]).status == 0)
        let parent = Process()
        parent.executableURL = CLI.executable
        parent.arguments = ["sweep", "\(dir)/grid.json", "--out", "\(dir)/jobs", "--jobs", "2"]
        parent.environment = CLI.childEnvironment
        parent.standardOutput = FileHandle.nullDevice
        parent.standardError = FileHandle.nullDevice
        try parent.run()
        while parent.isRunning, ((try? Collector.read("\(dir)/jobs"))?.count ?? 0) < 2 { usleep(2000) }
        let interrupted = parent.isRunning
        kill(parent.processIdentifier, SIGINT)
        parent.waitUntilExit()
        // The worker is the only other process whose command line names this directory.
        func sweepsInDirectory() -> Int {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
            return pids.filter { pid in
                let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
                return line.contains("\(dir)/jobs")
            }.count
        }
        var waited = 0
        while sweepsInDirectory() > 0, waited < 5000 { usleep(1000); waited += 1 }
        #expect(interrupted, "the sweep finished before the interrupt")
        #expect(parent.terminationReason == .uncaughtSignal && parent.terminationStatus == SIGINT)
        #expect(sweepsInDirectory() == 0, "a worker outlived its parent by 5 s")
        #expect(try Collector.read("\(dir)/jobs").count < 12, "nothing left to resume")
        #expect(try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/jobs", "--jobs", "2"]).status == 0)
        #expect(try CLI.run(["collect", "\(dir)/jobs"]).status == 0)
        #expect(try String(contentsOfFile: "\(dir)/jobs/results.csv", encoding: .utf8)
                == String(contentsOfFile: "\(dir)/single/results.csv", encoding: .utf8))
    }

    /// A job script's working folder is rarely the one the list was made in.
    @Test("--list with relative paths prints absolute ones: the commands run from another folder")
    func listRelative() throws {
        let dir = URL(fileURLWithPath: try CLI.temporaryDirectory()).resolvingSymlinksInPath().path
        try #"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "iterations": 2, "units": 4, "eval_trials": 4, "batch_size": 2}"#
            .write(toFile: "\(dir)/grid.json", atomically: true, encoding: .utf8)
        let executable = CLI.executable.resolvingSymlinksInPath().path
        func shell(_ command: String, in folder: String) throws -> (status: Int32, stdout: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            process.environment = CLI.childEnvironment
            let out = "\(dir)/shell-out"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: out)!
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return (process.terminationStatus, try String(contentsOfFile: out, encoding: .utf8))
        }
        let listed = try shell("'\(executable)' sweep grid.json --out ./sub/../listed --list", in: dir)
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(listed.status == 0 && lines == ["\(executable) sweep \(dir)/grid.json --out \(dir)/listed --shard 0/1"])
        #expect(try shell(lines.first ?? "false", in: "/").status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/listed/delayed-xor_gaussian_g1_bptt_none_s1"), "the run went into \(dir)/listed")
    }

    @Test("--list prints one command per run; running them, in any order, gives one process's results.csv")
    func list() throws {
        let dir = try CLI.temporaryDirectory()
        try #"{"tasks": ["delayed-xor"], "gains": [1, 2], "rules": ["bptt"], "seeds": [1, 2], "iterations": 3, "units": 6, "eval_trials": 8, "batch_size": 2}"#
            .write(toFile: "\(dir)/grid.json", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/single"]).status == 0)
        #expect(try CLI.run(["collect", "\(dir)/single"]).status == 0)
        let listed = try CLI.run(["sweep", "\(dir)/grid.json", "--out", "\(dir)/listed", "--list"])
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(listed.status == 0 && lines.count == 4)
        #expect(lines.first == "\(CLI.executable.resolvingSymlinksInPath().path) sweep \(dir)/grid.json --out \(dir)/listed --shard 0/4")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/listed"), "--list runs nothing")
        for line in lines.reversed() {
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", line]
            shell.environment = CLI.childEnvironment
            shell.standardOutput = FileHandle.nullDevice
            try shell.run()
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 0, "\(line)")
        }
        #expect(try CLI.run(["collect", "\(dir)/listed"]).status == 0)
        #expect(try String(contentsOfFile: "\(dir)/listed/results.csv", encoding: .utf8)
                == String(contentsOfFile: "\(dir)/single/results.csv", encoding: .utf8))
    }
}
