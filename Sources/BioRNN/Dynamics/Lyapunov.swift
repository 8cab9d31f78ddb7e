import Foundation

/// How a Lyapunov estimate is run (design §4).
public struct LyapunovOptions: Sendable, Equatable {
    /// Steps run before measuring, so that the state reaches the attractor.
    public var transient = 500
    /// Steps measured.
    public var steps = 2000
    /// Re-orthonormalise (or renormalise) every q steps.
    public var qrEvery = 1
    /// Seeds of the initial state and of the initial orthonormal system (or perturbation).
    public var initialConditionSeed: UInt64 = 1
    public var orthonormalSeed: UInt64 = 1
    /// The measured steps are cut into this many blocks (at most one per step); the spread of
    /// the block estimates gives the standard error (NaN for a single step).
    public var blocks = 10
    /// Size of the twin trajectory's perturbation.
    public var twinSeparation = 1e-8

    public init(transient: Int = 500, steps: Int = 2000, qrEvery: Int = 1) {
        self.transient = transient
        self.steps = steps
        self.qrEvery = qrEvery
    }

    public func validate(dimension: Int, k: Int) throws {
        guard transient >= 0 else { throw InputError("transient: must be ≥ 0, got \(transient)") }
        guard steps >= 1 else { throw InputError("steps: must be ≥ 1, got \(steps)") }
        guard qrEvery >= 1 else { throw InputError("qr-every: must be ≥ 1, got \(qrEvery)") }
        guard k >= 1 && k <= dimension else { throw InputError("k: must lie in 1…\(dimension) (the number of units), got \(k)") }
        guard blocks >= 2 else { throw InputError("blocks: must be ≥ 2, got \(blocks)") }
    }
}

/// Lyapunov exponents, natural log per step, sorted descending, each with a standard error
/// (the standard deviation of the per-block estimates over √blocks).
public struct LyapunovResult: Sendable, Equatable {
    public var exponents: [Double]
    public var standardErrors: [Double]
    /// Per-block estimates of each exponent (blocks × k), in exponent order.
    public var blockEstimates: [[Double]]
}

/// Lyapunov analysis by three independent routes (design §4).
public enum Lyapunov {
    /// The first k exponents by the QR method (Benettin et al. 1980; Shimada & Nagashima 1979):
    ///
    ///     Q_0 orthonormal (QR of a Gaussian N×k block);  V_t = J_t·Q_{t−1}
    ///     every q steps: V = Q·R (Householder, diag R ≥ 0), accumulate log R_ii
    ///     λ_i = (1/T)·Σ log R_ii        (natural log per step)
    ///
    /// One BLAS product and, every q steps, one LAPACK QR per step; no allocation in the loop.
    /// `start` replaces the seeded initial state (before the transient) and Q_0 (n×k,
    /// orthonormal) — for comparisons with other implementations from the same point.
    public static func spectrum(of map: some DynamicalMap, k: Int, options: LyapunovOptions = LyapunovOptions(),
                                start: (state: [Double], basis: Matrix)? = nil) throws -> LyapunovResult {
        let n = map.dimension
        try options.validate(dimension: n, k: k)
        var (x, t) = settledState(map, options, from: start?.state)
        var q: Matrix
        if let basis = start?.basis {
            precondition(basis.rows == n && basis.cols == k, "start basis is \(basis.rows)×\(basis.cols), expected \(n)×\(k)")
            q = basis
        } else {
            var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
            q = Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &orng).qr.q
        }
        let qr = HouseholderQR(rows: n, cols: k)
        var r = Matrix(rows: k, cols: k)
        var accumulator = BlockAccumulator(count: k, steps: options.steps, blocks: options.blocks)
        var logs = [Double](repeating: 0, count: k)
        for s in 0..<options.steps {
            map.applyJacobian(at: x, time: t, to: &q)
            map.step(&x, time: t)
            t += 1
            if (s + 1) % options.qrEvery == 0 || s == options.steps - 1 {
                qr.orthonormalize(&q, r: &r)
                for i in 0..<k { logs[i] = log(r.storage[i * k + i]) }
                accumulator.add(step: s, logs)
            }
        }
        return accumulator.result(sorted: true)
    }

    /// λ_max from one tangent vector, renormalised every q steps: v ← J_t·v, λ = (1/T)·Σ log‖v‖.
    /// O(N²) per step.
    public static func maximalExponent(of map: some DynamicalMap, options: LyapunovOptions = LyapunovOptions()) throws -> LyapunovResult {
        let n = map.dimension
        try options.validate(dimension: n, k: 1)
        var (x, t) = settledState(map, options)
        var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
        var v = Matrix.randomNormal(rows: n, cols: 1, sd: 1, using: &orng)
        v = (1 / v.frobeniusNorm) * v
        var accumulator = BlockAccumulator(count: 1, steps: options.steps, blocks: options.blocks)
        for s in 0..<options.steps {
            map.applyJacobian(at: x, time: t, to: &v)
            map.step(&x, time: t)
            t += 1
            if (s + 1) % options.qrEvery == 0 || s == options.steps - 1 {
                let norm = v.frobeniusNorm
                for i in 0..<n { v.storage[i] /= norm }
                accumulator.add(step: s, [log(norm)])
            }
        }
        return accumulator.result(sorted: false)
    }

    /// λ_max from a perturbed twin trajectory, without any Jacobian: x' = x + ε·u, both advanced
    /// by f_t; every q steps d = ‖x' − x‖, accumulate log(d/ε), and pull x' back to distance ε
    /// along x' − x. Nonlinear effects bias the estimate by O(ε).
    public static func twinExponent(of map: some DynamicalMap, options: LyapunovOptions = LyapunovOptions()) throws -> LyapunovResult {
        let n = map.dimension
        try options.validate(dimension: n, k: 1)
        var (x, t) = settledState(map, options)
        var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
        let u = (0..<n).map { _ in orng.normal() }
        let eps = options.twinSeparation, un = euclideanNorm(u)
        var twin = (0..<n).map { x[$0] + eps * u[$0] / un }
        var accumulator = BlockAccumulator(count: 1, steps: options.steps, blocks: options.blocks)
        var diff = [Double](repeating: 0, count: n)
        for s in 0..<options.steps {
            map.step(&twin, time: t)
            map.step(&x, time: t)
            t += 1
            if (s + 1) % options.qrEvery == 0 || s == options.steps - 1 {
                for i in 0..<n { diff[i] = twin[i] - x[i] }
                let d = euclideanNorm(diff)
                for i in 0..<n { twin[i] = x[i] + eps * diff[i] / d }
                accumulator.add(step: s, [log(d / eps)])
            }
        }
        return accumulator.result(sorted: false)
    }

    /// The state after the transient, from the initial-condition stream, and the time reached.
    static func settledState(_ map: some DynamicalMap, _ options: LyapunovOptions, from state: [Double]? = nil) -> ([Double], Int) {
        var rng = RandomStream(seed: options.initialConditionSeed, purpose: .initialCondition)
        var x = state ?? map.initialState(using: &rng)
        for t in 0..<options.transient { map.step(&x, time: t) }
        return (x, options.transient)
    }
}

/// Sums of per-step log growth, in total and per block of the measured steps.
struct BlockAccumulator {
    let count: Int, steps: Int, blocks: Int
    var total: [Double]
    var blockSums: [[Double]]
    var blockSteps: [Int]
    var lastStep = -1

    init(count: Int, steps: Int, blocks: Int) {
        (self.count, self.steps, self.blocks) = (count, steps, min(blocks, steps))
        total = Array(repeating: 0, count: count)
        blockSums = Array(repeating: Array(repeating: 0, count: count), count: blocks)
        blockSteps = Array(repeating: 0, count: blocks)
    }

    /// Growth logged at measured step `step`, covering the steps since the previous call.
    mutating func add(step: Int, _ logs: [Double]) {
        let block = min(step * blocks / steps, blocks - 1)
        for i in 0..<count { total[i] += logs[i]; blockSums[block][i] += logs[i] }
        blockSteps[block] += step - lastStep
        lastStep = step
    }

    /// λ_i = total/steps; s.e. = s.d. of the block estimates / √(blocks used).
    func result(sorted: Bool) -> LyapunovResult {
        let used = (0..<blocks).filter { blockSteps[$0] > 0 }
        let perBlock = used.map { b in (0..<count).map { blockSums[b][$0] / Double(blockSteps[b]) } }
        var exponents = total.map { $0 / Double(steps) }
        var errors = (0..<count).map { i -> Double in
            guard used.count >= 2 else { return .nan }
            let (_, sd) = meanAndSD(perBlock.map { $0[i] })
            return sd / Double(used.count).squareRoot()
        }
        var blocksOut = perBlock
        if sorted {
            let order = (0..<count).sorted { exponents[$0] > exponents[$1] }
            exponents = order.map { exponents[$0] }
            errors = order.map { errors[$0] }
            blocksOut = perBlock.map { row in order.map { row[$0] } }
        }
        return LyapunovResult(exponents: exponents, standardErrors: errors, blockEstimates: blocksOut)
    }
}
