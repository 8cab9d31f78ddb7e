/// Reading typed fields out of a JSON object, with errors that name the file and the field.
struct FieldReader {
    let object: [(String, JSONValue)]
    let source: String

    init(_ json: JSONValue, source: String) throws {
        guard case let .object(pairs) = json else { throw InputError("\(source): expected a JSON object, got \(json.kindName)") }
        object = pairs
        self.source = source
    }

    func fail(_ field: String, _ message: String) -> InputError { InputError("\(source): \(field): \(message)") }

    func value(_ key: String) -> JSONValue? { object.first { $0.0 == key }?.1 }

    func number(_ key: String, at path: String? = nil, _ v: JSONValue) throws -> Double {
        guard case let .number(x) = v else { throw fail(path ?? key, "expected a number, got \(v.kindName)") }
        guard x.isFinite else { throw fail(path ?? key, "not a finite number") }
        return x
    }

    func number(_ key: String) throws -> Double? {
        guard let v = value(key), v != .null else { return nil }
        return try number(key, v)
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key), v != .null else { return nil }
        guard case let .string(s) = v else { throw fail(key, "expected a string, got \(v.kindName)") }
        return s
    }

    /// A vector of finite numbers; `count` if given is enforced.
    func vector(_ key: String, count: Int? = nil) throws -> [Double]? {
        guard let v = value(key), v != .null else { return nil }
        guard case let .array(items) = v else { throw fail(key, "expected an array of numbers, got \(v.kindName)") }
        if let count, items.count != count { throw fail(key, "expected \(count) entries, got \(items.count)") }
        return try items.enumerated().map { try number(key, at: "\(key)[\($0.offset)]", $0.element) }
    }

    /// A matrix as an array of rows. `rows`/`cols` if given are enforced; rows must not be ragged.
    func matrix(_ key: String, rows: Int? = nil, cols: Int? = nil, allowEmptyRows: Bool = false) throws -> Matrix {
        guard let v = value(key), v != .null else { throw fail(key, "missing") }
        guard case let .array(rowValues) = v else { throw fail(key, "expected an array of rows, got \(v.kindName)") }
        guard !rowValues.isEmpty else { throw fail(key, "empty matrix") }
        var parsed: [[Double]] = []
        for (i, row) in rowValues.enumerated() {
            guard case let .array(items) = row else { throw fail(key, "row \(i) is \(row.kindName), expected an array of numbers") }
            parsed.append(try items.enumerated().map { try number(key, at: "\(key)[\(i)][\($0.offset)]", $0.element) })
        }
        let width = parsed[0].count
        if let bad = parsed.firstIndex(where: { $0.count != width }) {
            throw fail(key, "ragged rows: row 0 has \(width) entries, row \(bad) has \(parsed[bad].count)")
        }
        if width == 0 && !allowEmptyRows { throw fail(key, "empty rows") }
        let expectedRows = rows ?? parsed.count, expectedCols = cols ?? width
        if parsed.count != expectedRows || width != expectedCols {
            throw fail(key, "expected \(expectedRows)×\(expectedCols), got \(parsed.count)×\(width)")
        }
        return Matrix(rows: parsed.count, cols: width, storage: parsed.flatMap { $0 })
    }
}
