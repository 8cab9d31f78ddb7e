import Foundation

/// Bad input from a user: a file, a field or an option. The CLI prints `message` on one line and
/// exits with status 2 (<doc:CommandLine>).
///
/// An error about one setting of a configuration carries the setting as a ``ConfigField`` and the
/// problem apart, so each interface names the setting its own way: the command line by its option
/// (`trials: must be ≥ 1, got 0`), a sweep file by its JSON key (`batch_size: must be ≥ 1, got 0`).
public struct InputError: Error, CustomStringConvertible, Equatable {
    /// The setting at fault, when the error is about one.
    public let field: ConfigField?
    /// What is wrong with it (the whole message when there is no field).
    public let problem: String

    /// Line breaks (which can arrive quoted from the input itself) are escaped: always one line.
    public init(_ message: String) {
        field = nil
        problem = Self.oneLine(message)
    }

    public init(_ field: ConfigField, _ problem: String) {
        self.field = field
        self.problem = Self.oneLine(problem)
    }

    /// Two errors are the same when they say the same thing.
    public static func == (a: InputError, b: InputError) -> Bool { a.message == b.message }

    /// The message as the command line shows it: `option: problem`.
    public var message: String { field.map { "\($0.option): \(problem)" } ?? problem }
    public var description: String { message }

    static func oneLine(_ s: String) -> String {
        s.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// A setting of a training run, lyapunov measurement or flossing schedule that validation can
/// blame, with its name in each interface: the command-line option and the JSON key of sweep
/// files and config.json.
public enum ConfigField: String, Sendable, CaseIterable {
    case task, rule, initFamily, gain, seed, iterations, units, tauMs, activation, trials, optimizer
    case learningRate, clip, logEvery, evalTrials, floss
    case k, steps, transient, qrEvery, blocks

    /// The option's name without its dashes, e.g. "tau-ms".
    public var option: String {
        switch self {
        case .initFamily: return "init"
        case .tauMs: return "tau-ms"
        case .learningRate: return "lr"
        case .logEvery: return "log-every"
        case .evalTrials: return "eval-trials"
        case .qrEvery: return "qr-every"
        default: return rawValue
        }
    }

    /// The key in sweep files and config.json, e.g. "tau_ms"; the trials of a training batch are
    /// "batch_size" there.
    public var jsonKey: String {
        switch self {
        case .trials: return "batch_size"
        default: return option.replacingOccurrences(of: "-", with: "_")
        }
    }
}

/// A JSON document. Objects keep their keys' order so that written files read naturally and
/// extra keys of model files survive a round trip.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case let .object(pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    // MARK: reading

    /// Parse a JSON document (RFC 8259); `source` names the file in the error.
    ///
    /// Our own parser, because Foundation's JSONSerialization on Linux does not round decimal
    /// numbers correctly (most 17-digit doubles come back one ulp off); numbers here go through
    /// Swift's `Double(_:)`, which is correctly rounded, so a written model reads back bit for bit.
    /// A number too large for a Double (1e999) is rejected as invalid JSON.
    public static func parse(_ data: Data, source: String) throws -> JSONValue {
        var parser = JSONParser(bytes: [UInt8](data))
        do {
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.atEnd else { throw JSONParser.Failure(offset: parser.offset, reason: "unexpected text after the document") }
            return value
        } catch let failure as JSONParser.Failure {
            throw InputError("\(source): not valid JSON (\(failure.reason) at byte \(failure.offset))")
        }
    }

    /// Read and parse a file.
    public static func read(path: String) throws -> JSONValue {
        let data = try FileContents.read(path)
        return try parse(data, source: path)
    }

    // MARK: writing

    /// Compact JSON. Numbers use Swift's shortest round-trip representation, so a written
    /// Double reads back bit for bit; non-finite numbers (not JSON) are written as null.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(x): out += JSONValue.format(x)
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() { if i > 0 { out += "," }; item.write(to: &out) }
            out += "]"
        case let .object(pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(k, to: &out); out += ":"; v.write(to: &out)
            }
            out += "}"
        }
    }

    /// Integers print without a fraction; everything else as Swift's shortest round-trip form.
    public static func format(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(), abs(x) < 1e15, !(x == 0 && x.sign == .minus) { return String(Int64(x)) }
        return "\(x)"
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSONValue {
    public init(_ v: [Double]) { self = .array(v.map { .number($0) }) }
    public init(_ m: Matrix) { self = .array(m.rowArrays.map { JSONValue($0) }) }
}

/// A recursive-descent JSON parser over UTF-8 bytes.
struct JSONParser {
    struct Failure: Error { let offset: Int; let reason: String }

    let bytes: [UInt8]
    var offset = 0
    static let maxDepth = 512

    var atEnd: Bool { offset >= bytes.count }

    mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    func fail(_ reason: String) -> Failure { Failure(offset: offset, reason: reason) }

    mutating func expect(_ literal: String) throws {
        for b in literal.utf8 {
            guard offset < bytes.count, bytes[offset] == b else { throw fail("expected '\(literal)'") }
            offset += 1
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        guard offset < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var pairs: [(String, JSONValue)] = []
            var seen = Set<String>()
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return .object(pairs) }
            while true {
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                guard seen.insert(key).inserted else { throw fail("duplicate key '\(key)'") }
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                pairs.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard offset < bytes.count else { throw fail("unexpected end of input") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; return .object(pairs) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            offset += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard offset < bytes.count else { throw fail("unexpected end of input") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return .number(try number())
        }
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, converted by Double(_:) (correctly rounded).
    mutating func number() throws -> Double {
        let start = offset
        func digits() -> Int { let s = offset; while offset < bytes.count, (0x30...0x39).contains(bytes[offset]) { offset += 1 }; return offset - s }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < bytes.count, (0x30...0x39).contains(bytes[offset]) else { throw fail("unexpected character") }
        if bytes[offset] == 0x30 { offset += 1 } else { _ = digits() }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw fail("expected digits after '.'") }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw fail("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        guard let x = Double(text), x.isFinite else { offset = start; throw fail("number out of range") }
        return x
    }

    mutating func string() throws -> String {
        offset += 1   // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = offset
        func flushRun() throws {
            guard runStart < offset else { return }
            guard let s = String(validating: bytes[runStart..<offset], as: UTF8.self) else { throw fail("invalid UTF-8") }
            scalars.append(contentsOf: s.unicodeScalars)
        }
        while true {
            guard offset < bytes.count else { throw fail("unterminated string") }
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") { try flushRun(); offset += 1; return String(scalars) }
            if b < 0x20 { throw fail("control character in string") }
            if b != UInt8(ascii: "\\") { offset += 1; continue }
            try flushRun()
            offset += 1
            guard offset < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {   // surrogate pair
                    try expect("\\u")
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid surrogate pair") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
                scalars.append(scalar)
            default: throw fail("invalid escape")
            }
            runStart = offset
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self), radix: 16) else {
            throw fail("invalid \\u escape")
        }
        offset += 4
        return v
    }
}
