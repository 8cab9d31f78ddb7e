/// A loss and gradient as JSON (<doc:FileFormats>): what `biornn gradient --json` prints and
/// what an external rule prints for `biornn conform --exec`:
///
///     {"loss": x, "grads": {"w_in": [[..]], "w_rec": [[..]], "w_out": [[..]], "b_rec": [..], "b_out": [..], "h0": [..]},
///      "increments": [{"loss": x_1, "grads": {..}}, …, {"loss": x_T, "grads": {..}}]}
///
/// `increments` (optional, external rules only) are the per-step contributions of an online rule.
extension LossAndGradient {
    public var json: JSONValue {
        let g = gradients
        return .object([
            ("loss", .number(loss)),
            ("grads", .object([
                ("w_in", JSONValue(g.wIn)), ("w_rec", JSONValue(g.wRec)), ("w_out", JSONValue(g.wOut)),
                ("b_rec", JSONValue(g.bRec)), ("b_out", JSONValue(g.bOut)), ("h0", JSONValue(g.h0)),
            ])),
        ])
    }

    /// Reads a loss and gradient for `model`, every tensor of its parameter's shape; errors name
    /// `source` and the field.
    public init(json: JSONValue, for model: RNN, source: String) throws {
        let f = try FieldReader(json, source: source)
        guard let loss = try f.number("loss") else { throw f.fail("loss", "missing") }
        guard let grads = f.value("grads") else { throw f.fail("grads", "missing") }
        let g = try FieldReader(grads, source: "\(source): grads")
        let (N, I, O) = (model.units, model.inputs, model.outputs)
        var p = Parameters(zerosLike: model.parameters)
        p.wRec = try g.matrix("w_rec", rows: N, cols: N)
        if I > 0 { p.wIn = try g.matrix("w_in", rows: N, cols: I, allowEmptyRows: true) }
        p.wOut = try g.matrix("w_out", rows: O, cols: N)
        for (key, count, path) in [("b_rec", N, \Parameters.bRec), ("b_out", O, \Parameters.bOut), ("h0", N, \Parameters.h0)] {
            guard let v = try g.vector(key, count: count) else { throw g.fail(key, "missing") }
            p[keyPath: path] = v
        }
        self.init(loss: loss, gradients: p)
    }

    /// The optional `increments` of such a file (nil when absent).
    public static func increments(json: JSONValue, for model: RNN, source: String) throws -> [LossAndGradient]? {
        let f = try FieldReader(json, source: source)
        guard let value = f.value("increments"), value != .null else { return nil }
        guard case let .array(items) = value else { throw f.fail("increments", "expected an array, got \(value.kindName)") }
        return try items.enumerated().map { try LossAndGradient(json: $0.element, for: model, source: "\(source): increments[\($0.offset)]") }
    }
}
