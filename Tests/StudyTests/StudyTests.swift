import BioRNN
import BioRNNTesting
import Foundation
import PropertyBased
import Testing

func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("biornn-study-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A tiny grid that runs in about a second: 2 gains × (bptt + eprop with and without flossing) × 2 seeds.
func tinySweep() throws -> SweepConfig {
    try SweepConfig(json: JSONValue.parse(Data("""
        {"tasks": ["delayed-xor"], "gains": [0.5, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
         "flossing": {"none": null, "local": "mode=local,pre=3,window=20,transient=10"}, "floss_rules": ["eprop"],
         "iterations": 4, "units": 8, "batch_size": 4, "log_every": 2, "eval_trials": 16}
        """.utf8), source: "tiny.json"), source: "tiny.json")
}

@Suite("Study: sweeps, collection, statistics")
struct StudyTests {
    @Test("the grid: order, names, flossing only for floss_rules, ModProp on Dale/relu, no duplicates")
    func grid() throws {
        let c = try tinySweep()
        let names = c.runs.map(\.name)
        #expect(names.count == 2 * (1 + 2) * 2)
        #expect(names.first == "delayed-xor_gaussian_g0.5_bptt_none_s1")
        #expect(names.contains("delayed-xor_gaussian_g2_eprop_local_s2") && !names.contains { $0.contains("bptt_local") })
        #expect(Set(names).count == names.count)
        var m = c
        m.rules = ["modprop"]
        m.inits = ["gaussian", "orthogonal"]
        #expect(m.runs.allSatisfy { $0.config.initFamily == "dale" && $0.config.activation == .relu })
        #expect(m.runs.count == 2 * 2)   // inits collapse onto dale
    }

    @Test("every training option can be an axis: τ × activation multiply the grid, name the runs, set their configs; ModProp stays relu")
    func settingAxes() throws {
        var c = try SweepConfig(json: JSONValue.parse(Data("""
            {"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt", "modprop"], "seeds": [1],
             "tau_ms": [50, 100, 200], "activation": ["tanh", "relu"], "optimizer": "sgd", "clip": null, "lr": [0.01, 0.001]}
            """.utf8), source: "axes.json"), source: "axes.json")
        let bptt = c.runs.filter { $0.config.rule == "bptt" }
        #expect(bptt.count == 3 * 2 * 2)
        #expect(Set(bptt.map { $0.config.tauMs }) == [50, 100, 200] && Set(bptt.map { $0.config.activation }) == [.tanh, .relu])
        #expect(bptt.allSatisfy { $0.config.optimizer.kind == .sgd && $0.config.optimizer.clipNorm == nil })
        #expect(bptt.first?.name == "delayed-xor_gaussian_g1_bptt_none_s1_tau_ms-50_activation-tanh_lr-0.01")
        #expect(bptt.contains { $0.name == "delayed-xor_gaussian_g1_bptt_none_s1_tau_ms-200_activation-relu_lr-0.001" && $0.config.optimizer.learningRate == 0.001 })
        // ModProp needs relu: its tanh and relu runs are the same run, kept once.
        let modprop = c.runs.filter { $0.config.rule == "modprop" }
        #expect(modprop.count == 3 * 2 && modprop.allSatisfy { $0.config.activation == .relu && $0.config.initFamily == "dale" })
        #expect(Set(c.runs.map(\.name)).count == c.runs.count)
        // The file written back reads as the same grid; one value is a fixed setting again.
        let back = try SweepConfig(json: JSONValue.parse(Data(c.json.serialized.utf8), source: "s"), source: "s")
        #expect(back.runs.map(\.name) == c.runs.map(\.name))
        c.set(.tauMs, [.number(100)])
        #expect(c.runs.filter { $0.config.rule == "bptt" }.first?.name == "delayed-xor_gaussian_g1_bptt_none_s1_activation-tanh_lr-0.01")
    }

    @Test("networks pair each init with its activation (every rule also on Dale/relu), and floss_seeds give the flossed rules more seeds")
    func networksAndFlossSeeds() throws {
        let c = try SweepConfig(json: JSONValue.parse(Data("""
            {"tasks": ["delayed-xor"], "gains": [1, 2], "rules": ["bptt", "eprop", "modprop"], "seeds": [1, 2],
             "networks": [{"init": "gaussian", "activation": "tanh"}, {"init": "dale", "activation": "relu"}],
             "flossing": {"none": null, "local": "mode=local,pre=3"}, "floss_rules": ["eprop"], "floss_seeds": [1, 2, 3, 4]}
            """.utf8), source: "n.json"), source: "n.json")
        func runs(_ rule: String, _ family: String) -> [RunSpec] { c.runs.filter { $0.config.rule == rule && $0.config.initFamily == family } }
        #expect(runs("bptt", "gaussian").count == 2 * 2 && runs("bptt", "gaussian").allSatisfy { $0.config.activation == .tanh })
        #expect(runs("bptt", "dale").count == 2 * 2 && runs("bptt", "dale").allSatisfy { $0.config.activation == .relu })
        #expect(runs("modprop", "dale").count == 2 * 2 && runs("modprop", "gaussian").isEmpty)
        // e-prop: 2 networks × 2 gains × (none + local) × 4 seeds.
        #expect(runs("eprop", "gaussian").count + runs("eprop", "dale").count == 2 * 2 * 2 * 4)
        #expect(Set(runs("eprop", "dale").map(\.config.seed)) == [1, 2, 3, 4] && Set(runs("bptt", "dale").map(\.config.seed)) == [1, 2])
        #expect(Set(c.runs.map(\.name)).count == c.runs.count)
        #expect(c.runs.contains { $0.name == "delayed-xor_dale_g2_bptt_none_s2" })
        let back = try SweepConfig(json: JSONValue.parse(Data(c.json.serialized.utf8), source: "s"), source: "s")
        #expect(back.runs.map(\.name) == c.runs.map(\.name))
    }

    @Test("the study's three scales are valid grids of the sizes their documentation states", arguments: StudyScale.allCases)
    func studyScales(scale: StudyScale) throws {
        let c = scale.config
        // Reading the written file validates every run (sizes, flossing k ≤ N, rule requirements).
        let back = try SweepConfig(json: JSONValue.parse(Data(c.json.serialized.utf8), source: "s"), source: "s")
        #expect(back.runs.map(\.name) == c.runs.map(\.name))
        // Per task: bptt and eprop-random on 2 networks and modprop on 1, × gains × seeds; e-prop on
        // 2 networks × 5 flossing variants × gains × floss seeds.
        let perTask = (5 * c.seeds.count + 2 * 5 * c.flossSeeds!.count) * c.gains.count
        #expect(c.runs.count == 4 * perTask)
        #expect(Set(c.runs.map(\.config.task)) == ["perceptual-decision", "delay-match-sample", "context-decision", "delayed-xor"])
        let modprop = c.runs.filter { $0.config.rule.hasPrefix("modprop") }
        #expect(!modprop.isEmpty && modprop.allSatisfy { $0.config.initFamily == "dale" && $0.config.activation == .relu })
        #expect(c.runs.filter { $0.config.rule == "bptt" && $0.config.initFamily == "dale" }.allSatisfy { $0.config.activation == .relu })
        #expect(c.flossSeeds!.count >= (scale == .quick ? 3 : 10) && c.gains.count >= (scale == .quick ? 3 : 6))
    }

    @Test("the sweep.json a sweep writes reads back as the same grid (seeds as integers, not bit patterns)")
    func configRoundTrip() throws {
        var c = try tinySweep()
        c.seeds = [1, 2, 123_456_789]
        let text = c.json.serialized
        #expect(text.contains("\"seeds\":[1,2,123456789]"), "\(text)")
        let back = try SweepConfig(json: JSONValue.parse(Data(text.utf8), source: "sweep.json"), source: "sweep.json")
        #expect(back.runs.map(\.name) == c.runs.map(\.name))
    }

    @Test("sweep configuration errors name the file and field", arguments: [
        (#"{"gains": [1], "rules": ["bptt"], "seeds": [1]}"#, "c.json: tasks: missing"),
        (#"{"tasks": ["nope"], "gains": [1], "rules": ["bptt"], "seeds": [1]}"#, "c.json: tasks[0]: unknown task 'nope' (known: perceptual-decision, delay-match-sample, context-decision, delayed-xor, pattern-generation)"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "units": 100000}"#, "c.json: units: must lie in 1…4096, got 100000"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "units": 4, "flossing": {"f": "mode=full,k=5"}, "floss_rules": ["bptt"]}"#, "c.json: flossing.f: k must lie in 1…4 (the number of units), got 5"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "batch_size": 1000000}"#, "c.json: batch_size: 1000000 trials × 64 units × 41 steps would need more than 2 GiB per trajectory"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["magic"], "seeds": [1]}"#, "c.json: rules[0]: unknown rule 'magic' (known: bptt, rtrl, tbptt:K, eprop, eprop-random, rflo, modprop, modprop:μ)"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1.5]}"#, "c.json: seeds: must be integers in 0…2⁵³"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "flossing": {"x": "mode=slow"}}"#, "c.json: flossing.x: mode must be full, local or local-explicit, got 'slow'"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "iterations": 0}"#, "c.json: iterations: must be an integer ≥ 1, got 0.0"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "tau_ms": [100, -5]}"#, "c.json: tau_ms[1]: must be > 0, got -5.0"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "activation": ["tanh", "sigmoid"]}"#, "c.json: activation[1]: unknown activation 'sigmoid' (known: tanh, retanh, relu, softplus, linear)"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "optimizer": 3}"#, "c.json: optimizer: expected a string, got a number"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "units": [8, 4096, 5000]}"#, "c.json: units[2]: must lie in 1…4096, got 5000"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "clip": []}"#, "c.json: clip: expected a value or a non-empty array of values"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "inits": ["dale"], "networks": [{"init": "dale", "activation": "relu"}]}"#, "c.json: networks: give either inits or networks, not both"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "networks": [{"init": "dale", "activation": "step"}]}"#, "c.json: networks[0]: activation: unknown activation 'step' (known: tanh, retanh, relu, softplus, linear)"),
        (#"{"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt"], "seeds": [1], "floss_seeds": [0.5]}"#, "c.json: floss_seeds: must be a non-empty array of integers in 0…2⁵³"),
    ])
    func configErrors(text: String, message: String) {
        #expect(throws: InputError(message)) { try SweepConfig(json: JSONValue.parse(Data(text.utf8), source: "c.json"), source: "c.json") }
    }

    @Test("the same config and seeds give the same results.csv; a finished sweep reruns nothing; a partial run is redone")
    func determinismAndResume() throws {
        let (a, b) = (try temporaryDirectory(), try temporaryDirectory())
        let config = try tinySweep()
        try SweepRunner.run(config, into: a)
        try SweepRunner.run(config, into: b)
        try Collector.collect(a)
        try Collector.collect(b)
        let ra = try String(contentsOfFile: "\(a)/results.csv", encoding: .utf8)
        #expect(ra == (try String(contentsOfFile: "\(b)/results.csv", encoding: .utf8)))
        #expect(ra.split(separator: "\n").count == 1 + config.runs.count)
        #expect(try Collector.read(a).allSatisfy { $0.exponentsBefore.count == 3 && $0.exponentsAfter.count == 3 })
        // Rerunning skips finished runs: their files are not touched.
        let summary = "\(a)/\(config.runs[0].name)/summary.json"
        let stamp = try FileManager.default.attributesOfItem(atPath: summary)[.modificationDate] as! Date
        // A crashed run: files but no summary. It must be redone, and collect must not read it before.
        let victim = "\(a)/\(config.runs[3].name)"
        try FileManager.default.removeItem(atPath: "\(victim)/summary.json")
        try "garbage".write(toFile: "\(victim)/metrics.csv", atomically: true, encoding: .utf8)
        #expect(try Collector.read(a).count == config.runs.count - 1)
        try SweepRunner.run(config, into: a)
        #expect(try FileManager.default.attributesOfItem(atPath: summary)[.modificationDate] as! Date == stamp)
        try Collector.collect(a)
        #expect(try String(contentsOfFile: "\(a)/results.csv", encoding: .utf8) == ra)
    }

    @Test("sharding, as a property: for random grids and random n, the shards are disjoint and together are the grid")
    func shardingProperty() async {
        // Grids of 1…6 gains × 1…2 rules × 1…8 seeds (1…96 runs), n from 1 to 40 (so n > runs occurs).
        let cases = zip(Gen.int(in: 1...6), Gen.int(in: 1...2), Gen.int(in: 1...8), Gen.int(in: 1...40))
        await propertyCheck(count: 200, input: cases) { gains, rules, seeds, n in
            let config = SweepConfig(tasks: ["delayed-xor"], gains: (1...gains).map { Double($0) / 2 },
                                     rules: Array(["bptt", "eprop"].prefix(rules)), seeds: (1...seeds).map(UInt64.init))
            let shards = (0..<n).map { config.runs(shard: ($0, n)).map(\.name) }
            let union = shards.flatMap { $0 }
            #expect(union.count == config.runs.count, "shards overlap or miss runs")
            #expect(Set(union) == Set(config.runs.map(\.name)))
            #expect(shards.allSatisfy { $0.count == config.runs.count / n || $0.count == config.runs.count / n + 1 }, "shards are balanced")
        }
    }

    @Test("sharding: the shards are disjoint and together are the grid, for several n")
    func sharding() throws {
        let config = try tinySweep()
        for n in [1, 2, 3, 5, 13] {
            var seen: [String] = []
            for i in 0..<n {
                let dir = try temporaryDirectory()
                var c = config
                c.iterations = 1
                try SweepRunner.run(c, into: dir, shard: (i, n))
                seen += try Collector.read(dir).map(\.run)
            }
            #expect(seen.sorted() == config.runs.map(\.name).sorted(), "n = \(n)")
        }
    }

    @Test("statistics: group means, s.e.m. and the paired flossing comparison equal hand-computed values")
    func statistics() throws {
        func record(_ rule: String, _ floss: String, _ gain: Double, _ seed: Int, accuracy: Double) -> RunRecord {
            RunRecord(run: "\(rule)_\(floss)_\(gain)_\(seed)", task: "t", initFamily: "gaussian", rule: rule, floss: floss, gain: gain, seed: seed,
                      status: "completed", finalLoss: 1 - accuracy, finalAccuracy: accuracy, iterationsToCriterion: nil, learningCurveArea: nil,
                      lambdaBeforeDriven: nil, lambdaBeforeAutonomous: nil, lambdaPreflossedDriven: nil, lambdaAfterDriven: nil,
                      lambdaAfterAutonomous: nil, initialAlignment: nil, curve: [])
        }
        let records = [
            record("eprop", "none", 1, 1, accuracy: 0.6), record("eprop", "none", 1, 2, accuracy: 0.7), record("eprop", "none", 1, 3, accuracy: 0.8),
            record("eprop", "local", 1, 1, accuracy: 0.7), record("eprop", "local", 1, 2, accuracy: 0.75), record("eprop", "local", 1, 3, accuracy: 0.95),
            record("bptt", "none", 1, 1, accuracy: 0.9),
        ]
        let groups = StudyStatistics.groups(records, metric: { $0.finalAccuracy })
        let none = try #require(groups.first { $0.rule == "eprop" && $0.floss == "none" })
        // mean 0.7; s.d. 0.1; s.e.m. 0.1/√3
        #expect(abs(none.mean - 0.7) <= 1e-15 && abs(none.sem - 0.1 / 3.0.squareRoot()) <= 1e-15 && none.n == 3)
        #expect(groups.first { $0.rule == "bptt" }?.sem.isNaN == true)   // one seed: no s.e.m.
        let paired = try #require(StudyStatistics.pairedFlossingEffect(records, metric: { $0.finalAccuracy }).first)
        // differences 0.1, 0.05, 0.15: mean 0.1, s.d. 0.05, s.e.m. 0.05/√3, t = 2√3
        #expect(paired.floss == "local" && paired.differences.count == 3)
        #expect(abs(paired.mean - 0.1) <= 1e-15)
        #expect(abs(paired.sem - 0.05 / 3.0.squareRoot()) <= 1e-15)
        #expect(abs(paired.t - 2 * 3.0.squareRoot()) <= 1e-12)
        // 95% CI: 0.1 ± t_{0.975,2}·0.05/√3 with t_{0.975,2} = 4.30265273 (tables); with ν = 2 the
        // t distribution has F(t) = ½ + t/(2√(t² + 2)), so p = 1 − t/√(t² + 2) = 1 − √(6/7).
        let c = paired.comparison
        let half = 4.30265273 * 0.05 / 3.0.squareRoot()
        #expect(abs(c.lower - (0.1 - half)) <= 1e-9 && abs(c.upper - (0.1 + half)) <= 1e-9, "\(c)")
        #expect(abs(c.effectSize - 2) <= 1e-12 && abs(c.p - (1 - (6.0 / 7).squareRoot())) <= 1e-12)
        // One comparison: Holm leaves p as it is, and p ≈ 0.074 cannot tell.
        let verdict = StudyStatistics.verdicts([paired]) { _ in true }
        #expect(verdict.count == 1 && verdict[0].adjustedP == c.p && verdict[0].verdict == .cannotTell)
        // Six seeds that agree: adjusted p < 0.05, so flossing helps accuracy (and would hurt a loss).
        let strong = StudyStatistics.Paired(task: "t", rule: "eprop", floss: "local", gain: 1, differences: [0.1, 0.12, 0.09, 0.11, 0.1, 0.13])
        #expect(StudyStatistics.verdicts([strong, paired]) { _ in true }.map(\.verdict) == [.helps, .cannotTell])
        #expect(StudyStatistics.verdicts([strong]) { _ in false }.map(\.verdict) == [.hurts])
    }

    @Test("report: report.md and non-empty PNG and SVG figures from a small sweep")
    func report() throws {
        let dir = try temporaryDirectory()
        try SweepRunner.run(try tinySweep(), into: dir)
        try Report.write(dir)
        let md = try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8)
        #expect(md.contains("## delayed-xor") && md.contains("Paired effect of flossing") && md.contains("![a-delayed-xor](figures/a-delayed-xor.png)"))
        for section in ["| rule | init | flossing | gain | mean difference [95% CI] | d_z | p | Holm p | verdict | pairs |", "p-values are Holm-adjusted over all",
                        "iterations to criterion", "learning-curve area", "fraction of initial networks with λ_max > 0 (autonomous / driven)"] {
            #expect(md.contains(section), "report.md has no \(section)")
        }
        // results.csv and curves.csv alone regenerate the same report.
        let copy = try temporaryDirectory()
        for file in ["results.csv", "curves.csv"] { try FileManager.default.copyItem(atPath: "\(dir)/\(file)", toPath: "\(copy)/\(file)") }
        try Report.write(copy)
        #expect(try String(contentsOfFile: "\(copy)/report.md", encoding: .utf8) == md)
        for fig in ["a-delayed-xor", "b-delayed-xor-eprop", "c-delayed-xor", "d-delayed-xor", "e-delayed-xor", "f-delayed-xor"] {
            for ext in ["png", "svg"] {
                let size = (try FileManager.default.attributesOfItem(atPath: "\(dir)/figures/\(fig).\(ext)")[.size] as? Int) ?? 0
                #expect(size > 1000, "\(fig).\(ext)")
            }
        }
    }

    @Test("a run another process holds (an flock on DIR/.claims/NAME) is skipped, and done by the next sweep once released")
    func claims() throws {
        let dir = try temporaryDirectory()
        var config = try tinySweep()
        config.iterations = 1
        let held = config.runs[2].name
        try FileManager.default.createDirectory(atPath: "\(dir)/.claims", withIntermediateDirectories: true)
        let fd = open("\(dir)/.claims/\(held)", O_CREAT | O_RDWR, 0o644)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        let first = try SweepRunner.run(config, into: dir)
        #expect(first[held] == .skippedClaimed)
        #expect(first.filter { $0.value == .trained }.count == config.runs.count - 1)
        #expect(try Collector.read(dir).count == config.runs.count - 1)
        flock(fd, LOCK_UN)
        close(fd)
        let second = try SweepRunner.run(config, into: dir)
        #expect(second[held] == .trained && second.filter { $0.value == .skippedComplete }.count == config.runs.count - 1)
    }

    @Test("numerical faults: exploding training or flossing ends that run as diverged with the reason, and the sweep goes on")
    func divergedRunsDoNotStopTheSweep() throws {
        let dir = try temporaryDirectory()
        // Adam's first step moves every weight by about lr: lr = 10⁷ lands beyond the 10⁶ bound at once.
        let config = try SweepConfig(json: JSONValue.parse(Data("""
            {"tasks": ["delayed-xor"], "gains": [1], "rules": ["bptt", "eprop"], "seeds": [1],
             "flossing": {"none": null, "wild": "mode=local,pre=3,window=20,transient=10,lr=1e7"}, "floss_rules": ["eprop"],
             "iterations": 4, "units": 8, "batch_size": 4, "log_every": 2, "eval_trials": 16, "lr": 1e7}
            """.utf8), source: "wild.json"), source: "wild.json")
        try SweepRunner.run(config, into: dir)
        let records = try Collector.read(dir)
        #expect(records.count == 3 && records.allSatisfy { $0.status == "diverged" })
        let reasons = try records.map { r -> String in
            let summary = try JSONValue.read(path: "\(dir)/\(r.run)/summary.json")
            guard case let .object(pairs) = summary, case let .string(reason)? = pairs.first(where: { $0.0 == "reason" })?.1 else { return "" }
            return reason
        }
        #expect(reasons.filter { $0.hasPrefix("weights exploded (max |w| = ") && $0.hasSuffix("> 1000000.0) after iteration 0") }.count == 2, "\(reasons)")
        #expect(reasons.filter { $0.hasPrefix("flossing: weights exploded") && $0.hasSuffix("after flossing step 0") }.count == 1, "\(reasons)")
    }
}
