import Foundation

/// What a random stream is for. Each purpose gets its own stream from the same experiment seed,
/// so that, say, drawing more training data never changes the initial weights.
public enum StreamPurpose: String, Sendable, CaseIterable {
    case network            // initial weights
    case data               // task trials
    case heldout            // a training run's held-out trials, fixed for the run
    case feedback           // fixed random feedback matrices
    case noise              // private noise ξ_t
    case initialCondition   // initial states of Lyapunov trajectories
    case orthonormal        // initial orthonormal systems of the QR method
    case flossingData = "floss-data"                // task trials that drive flossing during training
    case flossingStep = "floss-step"                // one flossing step's trajectory seeds (indexed by step)
    case flossingEvaluation = "fresh-evaluation"    // the fresh trajectories that judge a flossed network
    case frozenPattern = "pattern-generation"       // the frozen input and target of pattern generation
    case testCase = "conformance"                   // test support: the random networks of a check (indexed)
    case permutation                                // test support: unit renumberings (indexed)
    case goldenProbe = "golden-probe"               // the golden corpus's condition probes (indexed)
}

/// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): s ← s + 0x9E3779B97F4A7C15, then
/// z = (s ⊕ (s ≫ 30))·0xBF58476D1CE4E5B9, z = (z ⊕ (z ≫ 27))·0x94D049BB133111EB, z ⊕ (z ≫ 31).
/// Used only to expand a 64-bit seed into xoshiro's 256-bit state, as its authors recommend.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The project's one random number generator: xoshiro256** 1.0 (Blackman & Vigna, 2018),
/// seeded through SplitMix64. Bitwise reproducible for a given seed; no global state.
///
///     result = rotl(s1 · 5, 7) · 9
///     t = s1 ≪ 17;  s2 ⊕= s0;  s3 ⊕= s1;  s1 ⊕= s2;  s0 ⊕= s3;  s2 ⊕= t;  s3 = rotl(s3, 45)
public struct RandomStream: RandomNumberGenerator, Sendable, Hashable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// The stream for a 64-bit seed: xoshiro's state is four successive SplitMix64 outputs.
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        state = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// The stream for one purpose of an experiment seed. The purpose's name is hashed (FNV-1a,
    /// 64-bit) and mixed with the seed through SplitMix64, so streams for different purposes (or
    /// seeds) start from unrelated states.
    public init(seed: UInt64, purpose: StreamPurpose) {
        self.init(seed: seed, name: purpose.rawValue)
    }

    /// The `index`-th stream of one purpose (e.g. flossing step 3), from the name "purpose-index".
    public init(seed: UInt64, purpose: StreamPurpose, index: Int) {
        self.init(seed: seed, name: "\(purpose.rawValue)-\(index)")
    }

    /// A stream by free-form name, for streams outside the library (a test's random directions, a
    /// user's own experiment). BioRNN itself draws only from named purposes. The name is hashed
    /// (FNV-1a, 64-bit) and mixed with the seed through SplitMix64.
    public init(seed: UInt64, name: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var mixer = SplitMix64(state: seed ^ hash)
        self.init(seed: mixer.next())
    }

    /// A raw state (all four words zero is the one state xoshiro cannot leave, and is refused).
    public init?(state: (UInt64, UInt64, UInt64, UInt64)) {
        guard state != (0, 0, 0, 0) else { return nil }
        self.state = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        var (s0, s1, s2, s3) = state
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = Self.rotl(s3, 45)
        state = (s0, s1, s2, s3)
        return result
    }

    /// Uniform on [0, 1): the top 53 bits of one draw, times 2⁻⁵³.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform on [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Standard normal by Box–Muller, z = sqrt(−2 ln u₁)·cos(2π u₂) with u₁ ∈ (0, 1], u₂ ∈ [0, 1).
    /// Two uniforms per draw and no cached second value, so the stream's state is its whole state.
    public mutating func normal() -> Double {
        let u1 = 1 - uniform()
        let u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<n, unbiased (Lemire's multiply-and-reject).
    public mutating func index(below n: Int) -> Int {
        precondition(n > 0, "index(below:) needs n > 0")
        let bound = UInt64(n)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// true with probability p.
    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    public static func == (a: RandomStream, b: RandomStream) -> Bool { a.state == b.state }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(state.0); hasher.combine(state.1); hasher.combine(state.2); hasher.combine(state.3)
    }
}

extension Matrix {
    /// Entries i.i.d. N(0, sd²) from `rng`, row by row.
    public static func randomNormal(rows: Int, cols: Int, sd: Double, using rng: inout RandomStream) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for i in 0..<m.storage.count { m.storage[i] = sd * rng.normal() }
        return m
    }
}
