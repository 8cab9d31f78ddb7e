import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("biornn sweep: kill -9 and resume (end to end)")
struct SweepCLITests {
    @Test("a sweep killed with SIGKILL mid-run, then rerun, ends with the results of an uninterrupted sweep")
    func killAndResume() throws {
        let dir = try CLI.temporaryDirectory()
        let config = """
            {"tasks": ["delayed-xor"], "gains": [0.5, 1, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
             "iterations": 120, "units": 24, "batch_size": 8, "log_every": 20, "eval_trials": 32}
            """
        try config.write(toFile: "\(dir)/sweep.json", atomically: true, encoding: .utf8)
        // Uninterrupted reference.
        #expect(try CLI.run(["sweep", "\(dir)/sweep.json", "--out", "\(dir)/reference"]).status == 0)
        #expect(try CLI.run(["collect", "\(dir)/reference"]).status == 0)
        // Interrupted: kill -9 after the second run finished, several times over.
        for attempt in 0..<3 {
            let process = Process()
            process.executableURL = CLI.executable
            process.arguments = ["sweep", "\(dir)/sweep.json", "--out", "\(dir)/killed"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let done = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/killed"))?.filter {
                    FileManager.default.fileExists(atPath: "\(dir)/killed/\($0)/summary.json")
                }.count ?? 0
                if done >= 2 * (attempt + 1) || !process.isRunning { break }
                usleep(20_000)
            }
            #expect(process.isRunning, "attempt \(attempt): the sweep finished before it could be killed")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
        }
        let completeAfterKills = try Collector.read("\(dir)/killed").count
        #expect(completeAfterKills >= 6 && completeAfterKills < 12, "\(completeAfterKills) runs were complete after the kills")
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
}
