import Foundation

/// A study as a grid (`biornn sweep`, <doc:TheStudy>): task × initial connectivity × gain × rule × flossing ×
/// seed, from a JSON config:
///
///     {"tasks": ["perceptual-decision"], "inits": ["gaussian"], "gains": [0.5, 1, 2],
///      "rules": ["bptt", "eprop", "modprop"], "seeds": [1, 2, 3],
///      "flossing": {"none": null, "local": "mode=local,pre=100"}, "floss_rules": ["eprop"],
///      "iterations": 200, "units": 64, "batch_size": 32, "lr": 0.01, "log_every": 10, "eval_trials": 256,
///      "tau_ms": [50, 100], "activation": "tanh", "optimizer": "adam", "clip": 1}
///
/// Every training option (`TrainingConfig.sweepSettings`: iterations, units, tau_ms, activation,
/// batch_size, optimizer, lr, clip, log_every, eval_trials) is one value or an array of values; an
/// array is one more axis of the grid, and the run directories' names then end with the axis's
/// key and value (`…_s3_tau_ms-50`).
/// Flossing variants apply to the rules in `floss_rules` (the others run "none"); a variant's name
/// becomes part of its runs' directory names, so it must be a ``SafeName``. A rule that requires
/// a kind of network runs on it whatever `inits` says (ModProp: Dale networks with relu, recorded
/// as "dale").
///
/// `"networks": [{"init": "gaussian", "activation": "tanh"}, {"init": "dale", "activation": "relu"}]`
/// replaces `inits` when every rule should also run on the network family another rule needs:
/// each entry pairs an initial connectivity with its activation. `"floss_seeds"` gives the rules in
/// `floss_rules` (flossed or not) their own, usually longer, list of seeds, so that the paired
/// flossing comparisons have more seeds than the rest of the grid.
public struct SweepConfig: Equatable, Sendable {
    public var tasks: [String]
    public var inits: [String] = ["gaussian"]
    /// Initial connectivity paired with an activation, instead of `inits` (nil: `inits`); setting
    /// it sets `inits` to its families.
    public var networks: [(family: String, activation: Activation)]? {
        didSet { if let networks { inits = networks.map(\.family) } }
    }
    /// Seeds of the runs of `flossRules` (nil: `seeds`).
    public var flossSeeds: [UInt64]?
    public var gains: [Double]
    public var rules: [String]
    public var seeds: [UInt64]
    /// Flossing variants by name; nil spec: no flossing. Order as given. Set through
    /// `setFlossing`, which checks every name and specification.
    public private(set) var flossing: [(name: String, spec: String?)] = [("none", nil)]
    /// The variants' specifications, parsed when they were set.
    private var flossingConfigs: [String: FlossingConfig] = [:]
    public var flossRules: [String] = []
    /// The values of every setting of `TrainingConfig.sweepSettings`, in that order: one value, or
    /// several (an axis). Defaults: `TrainingConfig`'s, and 200 iterations.
    public private(set) var settings: [(field: ConfigField, values: [JSONValue])] = {
        let defaults = TrainingConfig(task: "", rule: "", gain: 1, seed: 0, iterations: 200)
        return TrainingConfig.sweepSettings.map { ($0, [defaults.value(of: $0)]) }
    }()

    /// Gives a setting one value, or several (an axis); the values are checked when runs are made.
    public mutating func set(_ field: ConfigField, _ values: [JSONValue]) {
        precondition(!values.isEmpty, "a setting needs at least one value")
        guard let index = settings.firstIndex(where: { $0.field == field }) else { preconditionFailure("\(field) is not a sweep setting") }
        settings[index].values = values
    }

    func values(_ field: ConfigField) -> [JSONValue] { settings.first { $0.field == field }!.values }
    func integer(_ field: ConfigField) -> Int { if case let .number(x) = values(field)[0] { return Int(x) }; return 0 }

    /// One-value conveniences (the first value of an axis).
    public var iterations: Int { get { integer(.iterations) } set { set(.iterations, [.number(Double(newValue))]) } }
    public var units: Int { get { integer(.units) } set { set(.units, [.number(Double(newValue))]) } }
    public var batchSize: Int { get { integer(.trials) } set { set(.trials, [.number(Double(newValue))]) } }
    public var logEvery: Int { get { integer(.logEvery) } set { set(.logEvery, [.number(Double(newValue))]) } }
    public var evalTrials: Int { get { integer(.evalTrials) } set { set(.evalTrials, [.number(Double(newValue))]) } }

    public init(tasks: [String], gains: [Double], rules: [String], seeds: [UInt64]) {
        (self.tasks, self.gains, self.rules, self.seeds) = (tasks, gains, rules, seeds)
    }

    public static func == (a: SweepConfig, b: SweepConfig) -> Bool { a.json == b.json }

    public static func read(path: String) throws -> SweepConfig { try SweepConfig(json: JSONValue.read(path: path), source: path) }

    public init(json: JSONValue, source: String) throws {
        let f = try FieldReader(json, source: source)
        func strings(_ key: String, required: Bool = true, allowEmpty: Bool = false) throws -> [String]? {
            guard let v = f.value(key), v != .null else { if required { throw f.fail(key, "missing") }; return nil }
            guard case let .array(items) = v, allowEmpty || !items.isEmpty else { throw f.fail(key, "expected a non-empty array of strings") }
            return try items.enumerated().map { i, item in
                guard case let .string(s) = item else { throw f.fail("\(key)[\(i)]", "expected a string, got \(item.kindName)") }
                return s
            }
        }
        tasks = try strings("tasks")!
        for (i, t) in tasks.enumerated() {
            do { _ = try TaskRegistry.task(named: t) } catch let e as InputError { throw f.fail("tasks[\(i)]", e.problem) }
        }
        inits = try strings("inits", required: false) ?? ["gaussian"]
        if let v = f.value("networks"), v != .null {
            guard f.value("inits") == nil else { throw f.fail("networks", "give either inits or networks, not both") }
            guard case let .array(items) = v, !items.isEmpty else { throw f.fail("networks", "expected a non-empty array of {\"init\", \"activation\"}") }
            networks = try items.enumerated().map { i, item in
                let n = try FieldReader(item, source: "\(source): networks[\(i)]")
                guard let family = try n.string("init") else { throw n.fail("init", "missing") }
                do { _ = try Connectivity.named(family, gain: 1) } catch let e as InputError { throw n.fail("init", e.problem) }
                guard let name = try n.string("activation") else { throw n.fail("activation", "missing") }
                guard let activation = Activation(rawValue: name) else {
                    throw n.fail("activation", unknownName(name, kind: "activation", known: Activation.allCases.map(\.rawValue)))
                }
                return (family, activation)
            }
            inits = networks!.map(\.family)   // observers do not run in an initializer
        }
        guard let g = try f.vector("gains"), !g.isEmpty else { throw f.fail("gains", "missing or empty") }
        for (i, family) in inits.enumerated() {
            do { _ = try Connectivity.named(family, gain: 1) } catch let e as InputError { throw f.fail("inits[\(i)]", e.problem) }
        }
        for (i, x) in g.enumerated() {
            do { _ = try Connectivity.named(inits[0], gain: x) } catch let e as InputError { throw f.fail("gains[\(i)]", e.problem) }
        }
        gains = g
        rules = try strings("rules")!
        guard let s = try f.vector("seeds"), !s.isEmpty else { throw f.fail("seeds", "missing or empty") }
        guard s.allSatisfy({ $0 >= 0 && $0 == $0.rounded() && $0 <= Double(1 << 53) }) else { throw f.fail("seeds", "must be integers in 0…2⁵³") }
        seeds = s.map { UInt64($0) }
        if let fs = try f.vector("floss_seeds") {
            guard !fs.isEmpty, fs.allSatisfy({ $0 >= 0 && $0 == $0.rounded() && $0 <= Double(1 << 53) }) else {
                throw f.fail("floss_seeds", "must be a non-empty array of integers in 0…2⁵³")
            }
            flossSeeds = fs.map { UInt64($0) }
        }
        if let v = f.value("flossing"), v != .null {
            guard case let .object(pairs) = v, !pairs.isEmpty else { throw f.fail("flossing", "expected an object of name: spec (or null)") }
            try setFlossing(pairs.map { name, spec in
                switch spec {
                case .null: return (name, nil)
                case let .string(text): return (name, text)
                default: throw f.fail("flossing.\(name)", "expected a specification string or null")
                }
            }, source: source)
        }
        flossRules = try strings("floss_rules", required: false, allowEmpty: true) ?? []
        // Every setting: one value or a non-empty array of them, each checked for its type and name
        // (and, for counts, ≥ 1; for the learning rate, > 0).
        let counts: Set<ConfigField> = [.iterations, .units, .trials, .logEvery, .evalTrials]
        for field in TrainingConfig.sweepSettings {
            guard let v = f.value(field.jsonKey) else { continue }
            let (items, isAxis): ([JSONValue], Bool) = if case let .array(items) = v { (items, true) } else { ([v], false) }
            guard !items.isEmpty else { throw f.fail(field.jsonKey, "expected a value or a non-empty array of values") }
            for (i, item) in items.enumerated() {
                let where_ = isAxis ? "\(field.jsonKey)[\(i)]" : field.jsonKey
                if case let .number(x) = item, counts.contains(field), !(x >= 1 && x == x.rounded() && x <= 1e7) {
                    throw f.fail(where_, "must be an integer ≥ 1, got \(x)")
                }
                if case let .number(x) = item, field == .learningRate, !(x > 0) { throw f.fail(where_, "must be > 0") }
                var scratch = TrainingConfig(task: "", rule: "", gain: 1, seed: 0, iterations: 1)
                do { try scratch.set(field, to: item) } catch let e as InputError { throw f.fail(where_, e.problem) }
            }
            set(field, items)
        }
        // Every run must be valid before anything is written (sizes, flossing k ≤ N, …); an error
        // names the sweep file's key, with the index of the run's value in its axis.
        for run in runs {
            do { try run.config.validate() } catch let e as InputError {
                throw e.field.map { f.fail(key(of: $0, in: run.config), e.problem) } ?? InputError("\(source): \(e.message)")
            }
        }
    }

    /// Where a run's setting sits in a sweep file: an axis entry (`rules[2]`), a flossing variant
    /// (`flossing.local`), or a plain key (`batch_size`).
    func key(of field: ConfigField, in c: TrainingConfig) -> String {
        func entry<T: Equatable>(_ axis: String, _ values: [T], _ value: T) -> String {
            values.firstIndex(of: value).map { "\(axis)[\($0)]" } ?? axis
        }
        switch field {
        case .task: return entry("tasks", tasks, c.task)
        case .initFamily: return entry(networks == nil ? "inits" : "networks", inits, c.initFamily)
        case .gain: return entry("gains", gains, c.gain)
        case .rule: return entry("rules", rules, c.rule)
        case .seed: return flossSeeds != nil && flossRules.contains(c.rule) ? entry("floss_seeds", flossSeeds!, c.seed) : entry("seeds", seeds, c.seed)
        case .floss: return "flossing.\(c.flossName)"
        default:
            guard TrainingConfig.sweepSettings.contains(field), values(field).count > 1 else { return field.jsonKey }
            return entry(field.jsonKey, values(field), c.value(of: field))
        }
    }

    /// `networks`, or `inits` when no activation is paired with them.
    var familiesJSON: (String, JSONValue) {
        guard let networks else { return ("inits", .array(inits.map { .string($0) })) }
        return ("networks", .array(networks.map { .object([("init", .string($0.family)), ("activation", .string($0.activation.rawValue))]) }))
    }

    public var json: JSONValue {
        .object([
            ("tasks", .array(tasks.map { .string($0) })),
            familiesJSON,
            ("gains", JSONValue(gains)),
            ("rules", .array(rules.map { .string($0) })), ("seeds", JSONValue(seeds.map { Double($0) })),
            ("flossing", .object(flossing.map { ($0.name, $0.spec.map { .string($0) } ?? .null) })),
            ("floss_rules", .array(flossRules.map { .string($0) })),
        ] + (flossSeeds.map { [("floss_seeds", JSONValue($0.map { Double($0) }))] } ?? []) + settings.map { ($0.field.jsonKey, $0.values.count == 1 ? $0.values[0] : .array($0.values)) })
    }

    /// The runs, in the deterministic grid order (task, init, gain, rule, flossing, seed), without
    /// duplicates (a rule that requires Dale networks collapses the init dimension onto "dale").
    /// The flossing variants: every name a ``SafeName`` (it becomes part of run directories'
    /// names), every specification valid (`train --floss`). Errors name `source` and the variant.
    public mutating func setFlossing(_ variants: [(name: String, spec: String?)], source: String = "flossing") throws {
        var configs: [String: FlossingConfig] = [:]
        for (name, spec) in variants {
            try SafeName.check(name, field: "\(source): flossing")
            guard let spec else { continue }
            do { configs[name] = try FlossingConfig(spec: spec) } catch let e as InputError {
                throw InputError("\(source): flossing.\(name): \(e.problem)")
            }
        }
        (flossing, flossingConfigs) = (variants, configs)
    }

    /// Every combination of the settings' values, the last setting varying fastest.
    var settingCombinations: [[(ConfigField, JSONValue)]] {
        settings.reduce([[]]) { partial, setting in partial.flatMap { prefix in setting.values.map { prefix + [(setting.field, $0)] } } }
    }

    public var runs: [RunSpec] {
        var out: [RunSpec] = [], seen = Set<String>()
        let families: [(family: String, activation: Activation?)] = networks?.map { ($0.family, $0.activation) } ?? inits.map { ($0, nil) }
        // Networks that pair one init with several activations name their runs by activation too.
        let pairedTwice = Dictionary(grouping: networks ?? [], by: \.family).values.contains { Set($0.map(\.activation)).count > 1 }
        let networkAxis: [ConfigField] = pairedTwice && values(.activation).count == 1 ? [.activation] : []
        for task in tasks {
            for family in families {
                let initFamily = family.family
                for gain in gains {
                    for rule in rules {
                        let variants = flossRules.contains(rule) ? flossing : [flossing.first { $0.spec == nil } ?? ("none", nil)]
                        for variant in variants {
                            for seed in flossRules.contains(rule) ? flossSeeds ?? seeds : seeds {
                                for combination in settingCombinations {
                                    var c = TrainingConfig(task: task, rule: rule, gain: gain, seed: seed, iterations: 0)
                                    for (field, value) in combination { try? c.set(field, to: value) }   // checked on reading
                                    if let activation = family.activation { c.activation = activation }
                                    // The family the rule requires (ModProp: Dale networks with relu).
                                    let network = (try? RuleRegistry.requirement(of: rule))?.network(initFamily: initFamily, activation: c.activation)
                                    c.initFamily = network?.initFamily ?? initFamily
                                    c.activation = network?.activation ?? c.activation
                                    c.floss = flossingConfigs[variant.name]
                                    c.flossName = variant.name
                                    let spec = RunSpec(config: c, axes: settings.filter { $0.values.count > 1 }.map(\.field) + networkAxis)
                                    if seen.insert(spec.name).inserted { out.append(spec) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension SweepConfig {
    /// Shard i of n: the runs whose index in the grid order is ≡ i (mod n).
    public func runs(shard: (index: Int, count: Int)) -> [RunSpec] {
        runs.enumerated().filter { $0.offset % shard.count == shard.index }.map(\.element)
    }
}

/// One run of a sweep: its training configuration and its directory name.
public struct RunSpec: Sendable {
    public let config: TrainingConfig
    /// The settings that are axes of the sweep: they name the run too.
    public let axes: [ConfigField]
    public var flossName: String { config.flossName }

    public init(config: TrainingConfig, axes: [ConfigField] = []) {
        (self.config, self.axes) = (config, axes)
    }

    /// e.g. "perceptual-decision_gaussian_g1.5_eprop_local_s3", and with a τ axis "…_s3_tau_ms-50".
    public var name: String {
        let c = config
        let base = "\(c.task)_\(c.initFamily)_g\(JSONValue.format(c.gain))_\(c.rule.replacingOccurrences(of: ":", with: "-"))_\(flossName)_s\(c.seed)"
        return base + axes.map { field in
            let value: String = switch c.value(of: field) {
            case let .number(x): JSONValue.format(x)
            case let .string(text): text
            default: "none"
            }
            return "_\(field.jsonKey)-\(value)"
        }.joined()
    }
}

/// Runs a sweep into a directory, one subdirectory per run. A run is complete exactly when its
/// summary.json exists (written last, atomically); complete runs are skipped, so an interrupted
/// sweep resumes without recomputing anything finished, and a partial run is redone from scratch.
///
/// Several processes may work in one directory at once (shards, or the same sweep started twice):
/// a process claims a run by holding an exclusive `flock` on DIR/.claims/NAME while it computes
/// it, and skips runs another process holds. The kernel drops the lock when its holder dies, even
/// by kill -9, so a crashed run is never left claimed — the next sweep redoes it.
public enum SweepRunner {
    /// What happened to one run of this process's share of the grid.
    public enum Outcome: String, Sendable, CustomStringConvertible {
        case trained, skippedComplete, skippedClaimed

        /// "trained", "already complete", "held by another process".
        public var description: String {
            switch self {
            case .trained: return "trained"
            case .skippedComplete: return "already complete"
            case .skippedClaimed: return "held by another process"
            }
        }
    }

    /// Runs the runs of `config` whose index i satisfies i ≡ shard.index (mod shard.count).
    /// `progress(done, total, name, outcome)` is called after each run.
    @discardableResult
    public static func run(_ config: SweepConfig, into dir: String, shard: (index: Int, count: Int) = (0, 1),
                           progress: ((Int, Int, String, Outcome) -> Void)? = nil) throws -> [String: Outcome] {
        let fm = FileManager.default
        try prepare(config, in: dir)
        let claims = (dir as NSString).appendingPathComponent(".claims")
        let mine = config.runs(shard: shard)
        var outcomes: [String: Outcome] = [:]
        for (done, spec) in mine.enumerated() {
            let runDir = (dir as NSString).appendingPathComponent(spec.name)
            let summary = (runDir as NSString).appendingPathComponent("summary.json")
            if fm.fileExists(atPath: summary) {
                outcomes[spec.name] = .skippedComplete
            } else if let claim = try RunClaim.take((claims as NSString).appendingPathComponent(spec.name)) {
                defer { claim.release() }
                if fm.fileExists(atPath: summary) {          // finished by another process meanwhile
                    outcomes[spec.name] = .skippedComplete
                } else {
                    try? fm.removeItem(atPath: runDir)       // a partial run from an interrupted sweep
                    try RunDirectory.write(try train(spec.config), config: spec.config, to: runDir)
                    outcomes[spec.name] = .trained
                }
            } else {
                outcomes[spec.name] = .skippedClaimed
            }
            progress?(done + 1, mine.count, spec.name, outcomes[spec.name]!)
        }
        return outcomes
    }

    /// Creates `dir` and DIR/.claims and writes the grid to DIR/sweep.json, which other processes
    /// (`sweep --jobs`, shards) read to join the sweep. Returns the path of sweep.json.
    @discardableResult
    public static func prepare(_ config: SweepConfig, in dir: String) throws -> String {
        try Directory.create((dir as NSString).appendingPathComponent(".claims"))
        let path = (dir as NSString).appendingPathComponent("sweep.json")
        try AtomicFile.write(config.json.serialized + "\n", to: path)
        return path
    }

    /// One shell command per run of the grid, for GNU parallel or any other launcher: each runs
    /// exactly one run (as shard i of n = number of runs) into `dir`, and is safe to repeat. The
    /// paths are made absolute, so that a job script may run the commands from any folder.
    public static func commands(_ config: SweepConfig, configPath: String, into dir: String, executable: String) -> [String] {
        let runs = config.runs
        let (configPath, dir) = (absolutePath(configPath), absolutePath(dir))
        return runs.indices.map { i in
            "\(shellQuoted(executable)) sweep \(shellQuoted(configPath)) --out \(shellQuoted(dir)) --shard \(i)/\(runs.count)"
        }
    }

    /// `path` from the current folder, without "." or ".." parts.
    static func absolutePath(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    static func shellQuoted(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// An exclusive, non-blocking advisory lock on a file, held until `release()` or process death.
struct RunClaim {
    let descriptor: Int32

    /// nil when another process holds the claim.
    static func take(_ path: String) throws -> RunClaim? {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw InputError("\(path): cannot create claim file") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); return nil }
        return RunClaim(descriptor: fd)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
