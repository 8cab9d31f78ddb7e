/// The trainable tensors of the RNN (<doc:TheModel>). Gradients have the same shape and type.
public struct Parameters: Equatable, Sendable {
    /// W_in, N×I
    public var wIn: Matrix
    /// W_rec, N×N
    public var wRec: Matrix
    /// W_out, O×N
    public var wOut: Matrix
    /// b_rec, N
    public var bRec: [Double]
    /// b_out, O
    public var bOut: [Double]
    /// h0 = a_0, N (shared by every trial of a batch)
    public var h0: [Double]

    public var units: Int { wRec.rows }
    public var inputs: Int { wIn.cols }
    public var outputs: Int { wOut.rows }

    /// All zeros, shaped like a network with N units, I inputs and O outputs.
    public init(zerosWithUnits n: Int, inputs i: Int, outputs o: Int) {
        wIn = Matrix(rows: n, cols: i)
        wRec = Matrix(rows: n, cols: n)
        wOut = Matrix(rows: o, cols: n)
        bRec = Array(repeating: 0, count: n)
        bOut = Array(repeating: 0, count: o)
        h0 = Array(repeating: 0, count: n)
    }

    public init(wIn: Matrix, wRec: Matrix, wOut: Matrix, bRec: [Double], bOut: [Double], h0: [Double]) {
        precondition(wRec.rows == wRec.cols && wIn.rows == wRec.rows && wOut.cols == wRec.rows
                     && bRec.count == wRec.rows && h0.count == wRec.rows && bOut.count == wOut.rows, "inconsistent parameter shapes")
        (self.wIn, self.wRec, self.wOut, self.bRec, self.bOut, self.h0) = (wIn, wRec, wOut, bRec, bOut, h0)
    }

    /// Every tensor by its file name (<doc:FileFormats>), as flat storage, for optimisers and I/O.
    public static var tensors: [(name: String, path: WritableKeyPath<Parameters, [Double]>)] {
        [("w_in", \.wIn.storage), ("w_rec", \.wRec.storage), ("w_out", \.wOut.storage),
         ("b_rec", \.bRec), ("b_out", \.bOut), ("h0", \.h0)]
    }

    public var isFinite: Bool { Self.tensors.allSatisfy { self[keyPath: $0.path].allSatisfy(\.isFinite) } }

    /// Weights beyond this magnitude mean training or flossing has blown up: a trained rate
    /// network's weights are O(1) (tanh and the readout saturate within a few units), and 10⁶ is
    /// still far from overflow in the N ≤ 4096-term products of a time step.
    public static let explosionBound = 1e6

    /// Why these parameters count as diverged — not finite, or beyond `explosionBound` — or nil.
    public var divergence: String? {
        var largest = 0.0
        for (name, path) in Self.tensors {
            for x in self[keyPath: path] {
                guard x.isFinite else { return "\(name) is not finite" }
                largest = max(largest, abs(x))
            }
        }
        return largest > Self.explosionBound ? "weights exploded (max |w| = \(largest) > \(Self.explosionBound))" : nil
    }

    /// sqrt of the sum of squares over the given tensors.
    public func norm(over names: Set<String>? = nil) -> Double {
        euclideanNorm(Self.tensors.filter { names?.contains($0.name) ?? true }.flatMap { self[keyPath: $0.path] })
    }
}

/// Which parameters train (<doc:TheModel>: all by default).
public struct TrainableSet: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let wIn = TrainableSet(rawValue: 1 << 0)
    public static let wRec = TrainableSet(rawValue: 1 << 1)
    public static let wOut = TrainableSet(rawValue: 1 << 2)
    public static let bRec = TrainableSet(rawValue: 1 << 3)
    public static let bOut = TrainableSet(rawValue: 1 << 4)
    public static let h0 = TrainableSet(rawValue: 1 << 5)
    public static let all: TrainableSet = [.wIn, .wRec, .wOut, .bRec, .bOut, .h0]

    /// The flag for a tensor name of `Parameters.tensors`.
    public static func named(_ name: String) -> TrainableSet? {
        ["w_in": .wIn, "w_rec": .wRec, "w_out": .wOut, "b_rec": .bRec, "b_out": .bOut, "h0": .h0][name]
    }

    public var names: Set<String> { Set(Parameters.tensors.map(\.name).filter { contains(Self.named($0)!) }) }
}

/// The leaky, current-based rate RNN of <doc:TheModel>:
///
///     a_t = (1 − α)·a_{t−1} + α·(W_rec·φ(a_{t−1}) + W_in·x_t + b_rec) [+ √α·σ·ξ_t],   a_0 = h0
///     r_t = φ(a_t),   y_t = W_out·r_t + b_out
public struct RNN: Equatable, Sendable {
    /// α = dt/τ ∈ (0, 1]
    public var alpha: Double
    public var activation: Activation
    public var parameters: Parameters
    /// σ of the private noise (0: off, the default).
    public var noiseSD: Double
    /// Column signs (+1 excitatory, −1 inhibitory) when the network obeys Dale's law; training
    /// projects W_rec back onto these signs after every update.
    public var daleSigns: [Double]?
    /// Keys of the model file that BioRNN does not interpret, kept verbatim (<doc:FileFormats>).
    public var extras: [String: JSONValue]

    public init(alpha: Double, activation: Activation, parameters: Parameters, noiseSD: Double = 0,
                daleSigns: [Double]? = nil, extras: [String: JSONValue] = [:]) {
        precondition(alpha > 0 && alpha <= 1, "α must lie in (0, 1]")
        self.alpha = alpha
        self.activation = activation
        self.parameters = parameters
        self.noiseSD = noiseSD
        self.daleSigns = daleSigns
        self.extras = extras
    }

    public var units: Int { parameters.units }
    public var inputs: Int { parameters.inputs }
    public var outputs: Int { parameters.outputs }

    /// Set every W_rec entry whose sign contradicts its column's Dale sign to 0.
    public mutating func projectOntoDaleSigns() {
        guard let signs = daleSigns else { return }
        let n = units
        for i in 0..<n { for j in 0..<n where parameters.wRec[i, j] * signs[j] < 0 { parameters.wRec[i, j] = 0 } }
    }
}
