/// A dense, row-major matrix of `Double`: entry (i, j) is `storage[i * cols + j]`.
///
/// Value semantics (copy-on-write through the array). Hot paths never build new matrices per
/// time step: they write into preallocated ones with the `into:` forms in `BLAS.swift`.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let cols: Int
    /// The entries, row-major. Read it freely; only the library writes it, so rows·cols = count.
    public internal(set) var storage: [Double]

    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && cols >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.storage = Array(repeating: value, count: rows * cols)
    }

    public init(rows: Int, cols: Int, storage: [Double]) {
        precondition(storage.count == rows * cols, "storage holds \(storage.count) entries, \(rows)×\(cols) needs \(rows * cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// From an array of rows, which must all have the same length.
    public init(_ rowArrays: [[Double]]) {
        let cols = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == cols }, "ragged rows")
        self.init(rows: rowArrays.count, cols: cols, storage: rowArrays.flatMap { $0 })
    }

    /// Entries drawn independently from `entry`, row by row.
    public init(rows: Int, cols: Int, entry: () -> Double) {
        self.init(rows: rows, cols: cols)
        for i in 0..<storage.count { storage[i] = entry() }
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public static func diagonal(_ d: [Double]) -> Matrix {
        var m = Matrix(rows: d.count, cols: d.count)
        for i in 0..<d.count { m[i, i] = d[i] }
        return m
    }

    /// Writes the entries in place through a pointer (their number cannot change), for C and
    /// BLAS calls outside the library (the test oracle).
    public mutating func withUnsafeMutableEntries<R>(_ body: (UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }

    public subscript(i: Int, j: Int) -> Double {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    public var rowArrays: [[Double]] {
        (0..<rows).map { Array(storage[($0 * cols)..<(($0 + 1) * cols)]) }
    }

    public func row(_ i: Int) -> [Double] { Array(storage[(i * cols)..<((i + 1) * cols)]) }

    public var diagonal: [Double] { (0..<min(rows, cols)).map { self[$0, $0] } }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t[j, i] = self[i, j] } }
        return t
    }

    public func map(_ f: (Double) -> Double) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: storage.map(f))
    }

    /// ‖A‖_F = sqrt(Σ a_ij²), accumulated with scaling so that it neither overflows nor underflows.
    public var frobeniusNorm: Double { euclideanNorm(storage) }

    /// max |a_ij| (0 for an empty matrix).
    public var maxAbs: Double { storage.reduce(0) { max($0, abs($1)) } }

    public var isFinite: Bool { storage.allSatisfy { $0.isFinite } }

    public static func + (a: Matrix, b: Matrix) -> Matrix { a.zipped(b, +) }
    public static func - (a: Matrix, b: Matrix) -> Matrix { a.zipped(b, -) }
    public static func * (s: Double, a: Matrix) -> Matrix { a.map { s * $0 } }

    private func zipped(_ b: Matrix, _ f: (Double, Double) -> Double) -> Matrix {
        precondition(rows == b.rows && cols == b.cols, "shape mismatch: \(rows)×\(cols) vs \(b.rows)×\(b.cols)")
        return Matrix(rows: rows, cols: cols, storage: zip(storage, b.storage).map(f))
    }

    public var description: String {
        "Matrix(\(rows)×\(cols)) " + rowArrays.map { "\($0)" }.joined(separator: "\n")
    }
}

/// Euclidean norm sqrt(Σ x_i²), computed on x / max|x_i| so that it neither overflows nor underflows.
public func euclideanNorm(_ x: [Double]) -> Double {
    let scale = x.reduce(0) { max($0, abs($1)) }
    guard scale > 0, scale.isFinite else { return scale }
    var sum = 0.0
    for v in x { let s = v / scale; sum += s * s }
    return scale * sum.squareRoot()
}

/// Σ x_i y_i.
public func dot(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count) differ")
    var s = 0.0
    for i in 0..<x.count { s += x[i] * y[i] }
    return s
}

extension Array where Element == Double {
    /// `count` doubles left unset, for buffers the caller overwrites before reading: the T·B·N
    /// arrays of a training step would otherwise be zero-filled only to be overwritten.
    init(uninitializedCount count: Int) {
        self.init(unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
