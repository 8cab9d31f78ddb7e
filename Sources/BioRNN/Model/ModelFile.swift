import Foundation

extension RNN {
    /// The keys of the model file (<doc:FileFormats>) that BioRNN interprets; all others are kept as extras.
    static let modelFileKeys: Set<String> = ["alpha", "activation", "w_in", "w_rec", "w_out", "b_rec", "b_out", "h0", "noise_sd", "dale_signs"]

    /// Read a model file (<doc:FileFormats>).
    public static func read(path: String) throws -> RNN {
        try RNN(json: JSONValue.read(path: path), source: path)
    }

    /// Parse a model from JSON; errors name `source` and the field.
    public init(json: JSONValue, source: String) throws {
        let f = try FieldReader(json, source: source)
        guard let alpha = try f.number("alpha") else { throw f.fail("alpha", "missing") }
        guard alpha > 0 && alpha <= 1 else { throw f.fail("alpha", "must lie in (0, 1], got \(alpha)") }
        guard let activationName = try f.string("activation") else { throw f.fail("activation", "missing") }
        guard let activation = Activation(rawValue: activationName) else {
            throw f.fail("activation", "unknown activation '\(activationName)' (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let wRec = try f.matrix("w_rec")
        let n = wRec.rows
        guard wRec.cols == n else { throw f.fail("w_rec", "expected \(n)×\(n), got \(n)×\(wRec.cols)") }
        let wIn = try f.matrix("w_in", rows: n, allowEmptyRows: true)
        let wOut = try f.matrix("w_out", cols: n)
        let o = wOut.rows
        let noiseSD = try f.number("noise_sd") ?? 0
        guard noiseSD >= 0 else { throw f.fail("noise_sd", "must be ≥ 0, got \(noiseSD)") }
        let signs = try f.vector("dale_signs", count: n)
        if let signs, let bad = signs.firstIndex(where: { $0 != 1 && $0 != -1 }) {
            throw f.fail("dale_signs[\(bad)]", "must be +1 or -1, got \(signs[bad])")
        }
        let params = Parameters(
            wIn: wIn, wRec: wRec, wOut: wOut,
            bRec: try f.vector("b_rec", count: n) ?? Array(repeating: 0, count: n),
            bOut: try f.vector("b_out", count: o) ?? Array(repeating: 0, count: o),
            h0: try f.vector("h0", count: n) ?? Array(repeating: 0, count: n))
        var extras: [String: JSONValue] = [:]
        for (k, v) in f.object where !Self.modelFileKeys.contains(k) { extras[k] = v }
        self.init(alpha: alpha, activation: activation, parameters: params, noiseSD: noiseSD, daleSigns: signs, extras: extras)
    }

    /// The model file's JSON (<doc:FileFormats>), extra keys after the interpreted ones.
    public var json: JSONValue {
        let p = parameters
        var pairs: [(String, JSONValue)] = [
            ("alpha", .number(alpha)), ("activation", .string(activation.rawValue)),
            ("w_in", JSONValue(p.wIn)), ("w_rec", JSONValue(p.wRec)), ("w_out", JSONValue(p.wOut)),
            ("b_rec", JSONValue(p.bRec)), ("b_out", JSONValue(p.bOut)), ("h0", JSONValue(p.h0)),
        ]
        if noiseSD != 0 { pairs.append(("noise_sd", .number(noiseSD))) }
        if let daleSigns { pairs.append(("dale_signs", JSONValue(daleSigns))) }
        for key in extras.keys.sorted() { pairs.append((key, extras[key]!)) }
        return .object(pairs)
    }
}

extension Batch {
    /// Read a batch file (<doc:FileFormats>).
    public static func read(path: String) throws -> Batch {
        try Batch(json: JSONValue.read(path: path), source: path)
    }

    /// Parse a batch: inputs [T][B][I], then targets [T][B][O] or labels [T][B], and an optional
    /// mask [T][B] of 0/1.
    public init(json: JSONValue, source: String) throws {
        let f = try FieldReader(json, source: source)
        func array(_ v: JSONValue, _ path: String) throws -> [JSONValue] {
            guard case let .array(items) = v else { throw f.fail(path, "expected an array, got \(v.kindName)") }
            return items
        }
        /// A [T][B][W] block of numbers; T and B enforced when given, W uniform.
        func block3(_ key: String, steps: Int?, trials: Int?) throws -> (values: [Double], steps: Int, trials: Int, width: Int) {
            guard let v = f.value(key), v != .null else { throw f.fail(key, "missing") }
            let outer = try array(v, key)
            guard !outer.isEmpty else { throw f.fail(key, "empty: no time steps") }
            if let steps, outer.count != steps { throw f.fail(key, "expected \(steps) time steps, got \(outer.count)") }
            var values: [Double] = [], b0 = -1, w0 = -1
            for (t, tv) in outer.enumerated() {
                let trialsAtT = try array(tv, "\(key)[\(t)]")
                if b0 < 0 { b0 = trialsAtT.count; if b0 == 0 { throw f.fail(key, "empty: no trials") } }
                guard trialsAtT.count == (trials ?? b0) else { throw f.fail("\(key)[\(t)]", "expected \(trials ?? b0) trials, got \(trialsAtT.count)") }
                for (b, bv) in trialsAtT.enumerated() {
                    let entries = try array(bv, "\(key)[\(t)][\(b)]")
                    if w0 < 0 { w0 = entries.count }
                    guard entries.count == w0 else { throw f.fail("\(key)[\(t)][\(b)]", "expected \(w0) entries, got \(entries.count)") }
                    for (i, e) in entries.enumerated() { values.append(try f.number(key, at: "\(key)[\(t)][\(b)][\(i)]", e)) }
                }
            }
            return (values, outer.count, b0, w0)
        }
        /// A [T][B] block of numbers.
        func block2(_ key: String, steps: Int, trials: Int) throws -> [Double]? {
            guard let v = f.value(key), v != .null else { return nil }
            let outer = try array(v, key)
            guard outer.count == steps else { throw f.fail(key, "expected \(steps) time steps, got \(outer.count)") }
            var values: [Double] = []
            for (t, tv) in outer.enumerated() {
                let row = try array(tv, "\(key)[\(t)]")
                guard row.count == trials else { throw f.fail("\(key)[\(t)]", "expected \(trials) trials, got \(row.count)") }
                for (b, e) in row.enumerated() { values.append(try f.number(key, at: "\(key)[\(t)][\(b)]", e)) }
            }
            return values
        }

        let inputs = try block3("inputs", steps: nil, trials: nil)
        let (T, B) = (inputs.steps, inputs.trials)
        let mask = try block2("mask", steps: T, trials: B)
        if let mask, let bad = mask.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw f.fail("mask[\(bad / B)][\(bad % B)]", "must be 0 or 1, got \(mask[bad])")
        }
        let hasTargets = f.value("targets").map { $0 != .null } ?? false
        let hasLabels = f.value("labels").map { $0 != .null } ?? false
        switch (hasTargets, hasLabels) {
        case (true, true): throw f.fail("targets", "a batch has targets (mse) or labels (xent), not both")
        case (false, false): throw f.fail("targets", "missing: a batch needs targets (mse) or labels (xent)")
        case (true, false):
            let targets = try block3("targets", steps: T, trials: B)
            guard targets.width > 0 else { throw f.fail("targets", "empty target vectors") }
            self.init(steps: T, trials: B, inputSize: inputs.width, inputs: inputs.values,
                      targets: targets.values, targetSize: targets.width, mask: mask)
        case (false, true):
            let labels = try block2("labels", steps: T, trials: B)!
            if let bad = labels.firstIndex(where: { $0 < 0 || $0 != $0.rounded() || $0 > 1e6 }) {
                throw f.fail("labels[\(bad / B)][\(bad % B)]", "must be a class index ≥ 0, got \(labels[bad])")
            }
            self.init(steps: T, trials: B, inputSize: inputs.width, inputs: inputs.values,
                      labels: labels.map { Int($0) }, mask: mask)
        }
    }

    /// The batch file's JSON (<doc:FileFormats>).
    public var json: JSONValue {
        let (T, B) = (steps, trials)
        func block3(_ v: [Double], width w: Int) -> JSONValue {
            .array((0..<T).map { t in .array((0..<B).map { b in JSONValue(Array(v[((t * B + b) * w)..<((t * B + b + 1) * w)])) }) })
        }
        func block2(_ v: [Double]) -> JSONValue { .array((0..<T).map { t in JSONValue(Array(v[(t * B)..<((t + 1) * B)])) }) }
        var pairs: [(String, JSONValue)] = [("inputs", block3(inputs, width: inputSize))]
        if let targets { pairs.append(("targets", block3(targets, width: targetSize))) }
        if let labels { pairs.append(("labels", block2(labels.map(Double.init)))) }
        pairs.append(("mask", block2(mask)))
        return .object(pairs)
    }

    /// Checks a batch against a model: input width, target width or label range.
    public func validate(for model: RNN, source: String) throws {
        guard inputSize == model.inputs else { throw InputError("\(source): inputs: the model has \(model.inputs) inputs, the batch \(inputSize)") }
        if targets != nil, targetSize != model.outputs {
            throw InputError("\(source): targets: the model has \(model.outputs) outputs, the targets \(targetSize)")
        }
        if let labels, let bad = labels.indices.first(where: { mask[$0] != 0 && labels[$0] >= model.outputs }) {
            throw InputError("\(source): labels[\(bad / trials)][\(bad % trials)]: class \(labels[bad]) but the model has \(model.outputs) outputs")
        }
    }
}
