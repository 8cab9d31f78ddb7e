import BioRNN
import BioRNNTesting
import Foundation
import Testing

let extensiveRuns = ProcessInfo.processInfo.environment["BIORNN_EXTENSIVE"] == "1"

/// The protocol every test below states (N = 64, tanh, autonomous, Adam lr 0.002, transient
/// 300, 200 flossing steps): full flossing with a 50-step window (longer windows make the exact
/// gradient explode in chaotic networks), local and local-explicit with the 200-step window of
/// the GradientFlossing article. λ_max is then measured on a fresh trajectory: new seeds, 500 + 3000 steps.
func flossed(gain g: Double, alpha: Double, mode: FlossMode, k: Int = 1, steps: Int = 200,
             seeds: [UInt64] = [7]) throws -> [(before: LyapunovResult, after: LyapunovResult)] {
    let model0 = RNN.initial(units: 64, inputs: 1, outputs: 1, alpha: alpha, activation: .tanh, connectivity: .gaussian(gain: g), seed: 1)
    var config = FlossingConfig(mode: mode)
    config.k = k
    config.window = mode == .full ? 50 : 200
    let before = try freshExponents(model0, k: k, seed: 99)   // the same start for every seed
    return try seeds.map { seed in
        var model = model0
        var flosser = Flosser(config, seed: seed)
        try flosser.floss(&model, steps: steps)
        return (before, try freshExponents(model, k: k, seed: 99))
    }
}

/// |λ| after is within `fraction` of |λ| before, or below the floor max(5 s.e., 0.003) — 0.003
/// being ten times the O(1/T) bias of a 3000-step estimate — when the start is already that
/// close to 0.
func reachedZero(_ r: (before: LyapunovResult, after: LyapunovResult), within fraction: Double, _ i: Int = 0) -> Bool {
    abs(r.after.exponents[i]) <= max(fraction * abs(r.before.exponents[i]), 5 * r.after.standardErrors[i], 0.003)
}

/// The flossing seeds every claim below is judged over.
let flossingSeeds = Array(UInt64(7)...13)

/// What flossing does to λ_max, stated so that it holds for (nearly) every realization — every
/// rounding too. Where 200 Adam steps leave λ_max varies: near zero λ_max is a rough function of
/// the weights, and the flossing loss is a noisy 200-step estimate (its sd there is ≈ 0.01–0.015),
/// so the weights keep jiggling and the fresh λ_max with them. Measured from g = 2, α = 1 (start
/// +0.0906), 10 seeds × 8 checkpoints (every 50 steps up to 400), with CKernels' tanh:
///
///     within  10%    20%    25% of the start      largest |λ_max|
///     local   64%    85%    89%                   0.048
///     full    79%    89%    90%                   0.088
///
/// So "the median of 5 seeds is within 10%" — what an earlier version asserted — fails for a
/// quarter of roundings (it passed twice by luck and failed after the kernels and then tanh
/// changed), and "every seed at least halves |λ_max|" for another quarter (full, p = 0.95 per
/// seed). What is asserted: over seeds 7–13, the median realization is within 25% of zero
/// (`reachedZero`), and the mean |λ_max| at most half the start. Resampling the 80 measurements
/// above, these fail with probability 0.005 (median) and < 10⁻⁵ (mean) per mode. From ordered
/// starts every realization measured lands within 9% of the start.
/// Returns λ_max before flossing, for the caller's check of its starting regime.
func expectFlossingReachesZero(gain: Double, alpha: Double, mode: FlossMode, _ description: String) throws -> Double {
    let results = try flossed(gain: gain, alpha: alpha, mode: mode, seeds: flossingSeeds)
    let before = results[0].before.exponents[0]
    let after = results.map { $0.after.exponents[0] }
    print("\(description), \(mode.rawValue): λ_max \(before) → \(after) (seeds 7–13)")
    let median = results.sorted { abs($0.after.exponents[0]) < abs($1.after.exponents[0]) }[results.count / 2]
    #expect(reachedZero(median, within: 0.25), "median realization: \(median.after.exponents[0])")
    let meanMagnitude = after.map(abs).reduce(0, +) / Double(after.count)
    #expect(meanMagnitude <= 0.5 * abs(before), "mean |λ_max| after: \(meanMagnitude)")
    return before
}

@Suite("Flossing drives λ_max toward zero (fresh trajectories)")
struct FlossingDynamicsTests {
    @Test("full and local flossing from g = 0.5, α = 0.1 (ordered, λ_max ≈ −0.045): median of 7 seeds within 25% of zero, mean |λ_max| at most half", arguments: [FlossMode.full, .local])
    func fromOrdered(mode: FlossMode) throws {
        let before = try expectFlossingReachesZero(gain: 0.5, alpha: 0.1, mode: mode, "g = 0.5, α = 0.1")
        #expect(before < -0.03)
    }

    @Test("full and local flossing from g = 2, α = 1 (chaotic, λ_max ≈ +0.09): median of 7 seeds within 25% of zero, mean |λ_max| at most half", arguments: [FlossMode.full, .local])
    func fromChaotic(mode: FlossMode) throws {
        let before = try expectFlossingReachesZero(gain: 2, alpha: 1, mode: mode, "g = 2, α = 1")
        #expect(before > 0.05)
    }

    @Test("the explicit term alone is unreliable from g = 0.5, α = 0.1: some flossing seeds drive λ_max away from zero, none below log(1 − α)")
    func explicitTermIsUnreliable() throws {
        // Design §5's NumPy prototype saw the explicit term alone run away: the origin loses
        // stability, units saturate (φ' → 0) and λ_max falls toward log(1 − α) ≈ −0.105. Here
        // that happens in some realizations, not all. Measured over flossing seeds 7–11:
        // −0.0454 → −0.069, −0.056, −0.013, −0.00004, −0.020 — two move away from zero, three
        // toward it (an earlier version of this test pinned seed 7 and called it a runaway). What
        // holds, and is tested: at least one seed ends farther from zero than it started, by more
        // than 5 s.e. of its fresh estimate, and none falls below the saturation limit log(1 − α).
        // Full and local flossing bring every one of these seeds to within 0.0011 of zero
        // (fromOrdered).
        let runs = try flossed(gain: 0.5, alpha: 0.1, mode: .localExplicit, seeds: Array(7...11))
        let before = runs[0].before.exponents[0]
        print("g = 0.5, α = 0.1, local-explicit: λ_max \(before) → \(runs.map { $0.after.exponents[0] }) (seeds 7–11)")
        let away = runs.filter { abs($0.after.exponents[0]) - abs(before) > 5 * $0.after.standardErrors[0] }
        #expect(away.count >= 1)
        for r in runs { #expect(r.after.exponents[0] > log(1 - 0.1) - 0.003) }
    }

    @Test("with k = 3 the first three exponents all move toward zero (local flossing, g = 2, α = 1)")
    func severalExponents() throws {
        // Measured: (0.090, 0.070, 0.049) → (−0.017, −0.018, −0.019). Full flossing with k = 3 at this
        // learning rate is not monotone in the chaotic regime (its exact gradient through the window
        // is dominated by the exploding state adjoint): after 100 steps λ₂, λ₃ overshoot to ≈ −0.05,
        // after 200 they are back at (0.10, 0.08, 0.07). That is reported, not pinned.
        let r = try flossed(gain: 2, alpha: 1, mode: .local, k: 3, steps: 200)[0]
        print("k = 3: \(r.before.exponents) → \(r.after.exponents)")
        for i in 0..<3 { #expect(abs(r.after.exponents[i]) < abs(r.before.exponents[i]), "λ\(i + 1)") }
    }

    @Test("all four conditions × three modes (g ∈ {0.5, 2}, α ∈ {0.1, 1}), median of 7 seeds, printed as a table", .enabled(if: extensiveRuns))
    func fullGrid() throws {
        for (g, alpha) in [(0.5, 0.1), (0.5, 1.0), (2.0, 0.1), (2.0, 1.0)] {
            var line = "g = \(g), α = \(alpha):"
            for mode in FlossMode.allCases {
                // The median realization over the flossing seeds (see expectFlossingReachesZero).
                let runs = try flossed(gain: g, alpha: alpha, mode: mode, seeds: flossingSeeds)
                let r = runs.sorted { abs($0.after.exponents[0]) < abs($1.after.exponents[0]) }[runs.count / 2]
                line += " \(mode.rawValue) \(String(format: "%+.4f → %+.4f", r.before.exponents[0], r.after.exponents[0]))"
                if mode != .localExplicit {
                    // Full reaches 25% (expectFlossingReachesZero); local at least halves |λ_max|
                    // (the GradientFlossing article's minimum for local).
                    #expect(reachedZero(r, within: mode == .full ? 0.25 : 0.5), "\(mode) at g = \(g), α = \(alpha)")
                }
            }
            print(line)
        }
    }
}
