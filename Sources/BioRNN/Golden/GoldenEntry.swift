import Foundation

/// How far a recomputed golden value may move, and why (<doc:GoldenValues>).
public struct GoldenTolerance: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Bitwise: any change is a change of meaning (random streams, the tasks' data).
        case exact
        /// Within a budget derived from the computation: unit roundoff times the number of
        /// operations and the growth of errors through it. `budget` bounds every |Δ| of the entry.
        case rounding
        /// Within `budget` standard errors of the recorded value (chaotic quantities, means over
        /// seeds), the standard errors stored with the entry under "<key>_stderr".
        case statistical
    }

    public var kind: Kind
    /// exact: unused (0); rounding: the largest |Δ| any value may show; statistical: how many
    /// standard errors.
    public var budget: Double
    /// The derivation, in words a reader can check.
    public var reason: String

    public init(_ kind: Kind, budget: Double = 0, reason: String) {
        self.kind = kind
        self.budget = budget
        self.reason = reason
    }
}

/// Where a golden value came from.
public struct GoldenProvenance: Sendable, Equatable {
    public var commit: String
    public var openblasCore: String
    public var threads: Int
    public var computedBy: String
    public var version: String

    /// This process: the commit of the working tree it runs in (when it is a git checkout), its
    /// OpenBLAS kernels and BioRNN's thread count.
    public static func current(computedBy: String) -> GoldenProvenance {
        GoldenProvenance(commit: gitCommit() ?? "unknown", openblasCore: BLAS.coreName, threads: BLAS.threadCount,
                         computedBy: computedBy, version: biornnVersion)
    }

    /// HEAD's short hash, with "-dirty" when tracked files under Sources/ differ from it (the
    /// values then come from code no commit holds).
    static func gitCommit() -> String? {
        guard let head = git(["rev-parse", "--short=12", "HEAD"]), !head.isEmpty else { return nil }
        let changed = git(["status", "--porcelain", "--untracked-files=no", "--", "Sources"]) ?? ""
        return head + (changed.isEmpty ? "" : "-dirty")
    }

    /// git's trimmed output, or nil when git is missing or fails.
    static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// One golden entry: named inputs, the values they gave, the tolerance class with its reason, and
/// provenance. Values are flat arrays of doubles under named keys (matrices row-major, with their
/// shapes under "shapes" in the inputs when it matters), so any language can read them.
public struct GoldenEntry: Sendable, Equatable {
    public var name: String
    public var layer: String
    public var inputs: JSONValue
    public var values: [(key: String, values: [Double])]
    public var tolerance: GoldenTolerance
    public var provenance: GoldenProvenance

    public static func == (a: GoldenEntry, b: GoldenEntry) -> Bool { a.json == b.json }

    public var json: JSONValue {
        .object([
            ("name", .string(name)), ("layer", .string(layer)), ("inputs", inputs),
            ("values", .object(values.map { ($0.key, JSONValue($0.values)) })),
            ("tolerance", .object([("class", .string(tolerance.kind.rawValue)), ("budget", .number(tolerance.budget)),
                                   ("reason", .string(tolerance.reason))])),
            ("provenance", .object([("commit", .string(provenance.commit)), ("openblas_core", .string(provenance.openblasCore)),
                                    ("threads", .number(Double(provenance.threads))), ("computed_by", .string(provenance.computedBy)),
                                    ("biornn_version", .string(provenance.version))])),
        ])
    }

    public init(name: String, layer: String, inputs: JSONValue, values: [(key: String, values: [Double])],
                tolerance: GoldenTolerance, provenance: GoldenProvenance) {
        (self.name, self.layer, self.inputs, self.values, self.tolerance, self.provenance) = (name, layer, inputs, values, tolerance, provenance)
    }

    public init(json: JSONValue, source: String) throws {
        let f = try FieldReader(json, source: source)
        guard let name = try f.string("name"), let layer = try f.string("layer") else { throw f.fail("name", "missing name or layer") }
        guard let inputs = f.value("inputs") else { throw f.fail("\(name).inputs", "missing") }
        guard case let .object(pairs)? = f.value("values") else { throw f.fail("\(name).values", "expected an object of arrays") }
        values = try pairs.map { key, value in
            guard case let .array(items) = value else { throw f.fail("\(name).values.\(key)", "expected an array of numbers") }
            return (key, try items.map { item in
                guard case let .number(x) = item else { throw f.fail("\(name).values.\(key)", "expected numbers, got \(item.kindName)") }
                return x
            })
        }
        let t = try FieldReader(f.value("tolerance") ?? .null, source: "\(source): \(name).tolerance")
        guard let kindName = try t.string("class"), let kind = GoldenTolerance.Kind(rawValue: kindName) else {
            throw t.fail("class", "expected exact, rounding or statistical")
        }
        tolerance = GoldenTolerance(kind, budget: try t.number("budget") ?? 0, reason: try t.string("reason") ?? "")
        let p = try FieldReader(f.value("provenance") ?? .null, source: "\(source): \(name).provenance")
        provenance = GoldenProvenance(commit: try p.string("commit") ?? "", openblasCore: try p.string("openblas_core") ?? "",
                                      threads: Int(try p.number("threads") ?? 0), computedBy: try p.string("computed_by") ?? "",
                                      version: try p.string("biornn_version") ?? "")
        (self.name, self.layer, self.inputs) = (name, layer, inputs)
    }
}

/// The corpus on disk: one file per layer, `DIR/<layer>.json` = {"schema": "biornn-golden/1",
/// "layer": …, "entries": [...]}.
public enum GoldenCorpus {
    public static let schema = "biornn-golden/1"

    public static func read(_ dir: String) throws -> [GoldenEntry] {
        var info = stat()
        guard stat(dir, &info) == 0 else { throw InputError("\(dir): no such directory (run from the package root, or pass --corpus DIR)") }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.sorted()
        var entries: [GoldenEntry] = []
        for file in files {
            let path = (dir as NSString).appendingPathComponent(file)
            let json = try JSONValue.read(path: path)
            guard json["schema"] == .string(schema) else { throw InputError("\(path): schema: expected \"\(schema)\"") }
            guard case let .array(items)? = json["entries"] else { throw InputError("\(path): entries: expected an array") }
            entries += try items.map { try GoldenEntry(json: $0, source: path) }
        }
        return entries
    }

    /// Writes every layer's file (entries in the given order), atomically.
    public static func write(_ entries: [GoldenEntry], to dir: String) throws {
        try Directory.create(dir)
        var layers: [String] = []
        for e in entries where !layers.contains(e.layer) { layers.append(e.layer) }
        for layer in layers {
            let items = entries.filter { $0.layer == layer }.map(\.json)
            let text = JSONValue.object([("schema", .string(schema)), ("layer", .string(layer)), ("entries", .array(items))]).serialized
            try AtomicFile.write(text + "\n", to: (dir as NSString).appendingPathComponent("\(layer).json"))
        }
    }
}
