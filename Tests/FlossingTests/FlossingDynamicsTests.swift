import BioRNN
import BioRNNTesting
import Foundation
import Testing

let extensiveRuns = ProcessInfo.processInfo.environment["BIORNN_EXTENSIVE"] == "1"

/// The protocol every test below states (N = 64, tanh, autonomous, Adam lr 0.002, transient
/// 300, 200 flossing steps): full flossing with a 50-step window (longer windows make the exact
/// gradient explode in chaotic networks), local and local-explicit with the 200-step window of
/// design §5. λ_max is then measured on a fresh trajectory: new seeds, 500 + 3000 steps.
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

/// |λ| after is below 10% of |λ| before, or below the floor max(5 s.e., 0.003) — 0.003 being
/// ten times the O(1/T) bias of a 3000-step estimate — when the start is already that close to 0.
func reachedZero(_ r: (before: LyapunovResult, after: LyapunovResult), _ i: Int = 0) -> Bool {
    abs(r.after.exponents[i]) <= max(0.1 * abs(r.before.exponents[i]), 5 * r.after.standardErrors[i], 0.003)
}

/// Where 200 Adam steps leave λ_max varies between realizations — flossing seeds, and rounding:
/// switching OpenBLAS from its Prescott to its SkylakeX kernels alone moved the full-flossing
/// result from g = 2, α = 1, seed 7, from −0.0004 to −0.0117. Measured over seeds 7–11 on both
/// kernels, 3 of 10 realizations per mode end at |λ_max| = 0.012–0.034 (Adam overshooting zero)
/// while the median is 0.0005–0.006. So one realization cannot carry "reaches 10% of the
/// start" (an earlier version of these tests asserted that for seed 7 and passed by the luck of
/// its rounding). The claim tested: over five flossing seeds, the median realization reaches
/// zero (`reachedZero`), and every realization at least halves |λ_max|.
/// Returns λ_max before flossing, for the caller's check of its starting regime.
func expectFlossingReachesZero(gain: Double, alpha: Double, mode: FlossMode, _ description: String) throws -> Double {
    let results = try flossed(gain: gain, alpha: alpha, mode: mode, seeds: Array(7...11))
    let before = results[0].before.exponents[0]
    let after = results.map { $0.after.exponents[0] }
    print("\(description), \(mode.rawValue): λ_max \(before) → \(after) (seeds 7–11)")
    let median = results.sorted { abs($0.after.exponents[0]) < abs($1.after.exponents[0]) }[results.count / 2]
    #expect(reachedZero(median), "median realization: \(median.after.exponents[0])")
    for (seed, x) in zip(7..., after) { #expect(abs(x) <= 0.5 * abs(before), "seed \(seed): \(x)") }
    return before
}

@Suite("Flossing drives λ_max toward zero (fresh trajectories)")
struct FlossingDynamicsTests {
    @Test("full and local flossing from g = 0.5, α = 0.1 (ordered, λ_max ≈ −0.045): median of 5 seeds within 10% of zero, each at least halved", arguments: [FlossMode.full, .local])
    func fromOrdered(mode: FlossMode) throws {
        let before = try expectFlossingReachesZero(gain: 0.5, alpha: 0.1, mode: mode, "g = 0.5, α = 0.1")
        #expect(before < -0.03)
    }

    @Test("full and local flossing from g = 2, α = 1 (chaotic, λ_max ≈ +0.09): median of 5 seeds within 10% of zero, each at least halved", arguments: [FlossMode.full, .local])
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

    @Test("all four conditions × three modes (g ∈ {0.5, 2}, α ∈ {0.1, 1}), median of 5 seeds, printed as a table", .enabled(if: extensiveRuns))
    func fullGrid() throws {
        for (g, alpha) in [(0.5, 0.1), (0.5, 1.0), (2.0, 0.1), (2.0, 1.0)] {
            var line = "g = \(g), α = \(alpha):"
            for mode in FlossMode.allCases {
                // The median realization over flossing seeds 7–11 (see expectFlossingReachesZero).
                let runs = try flossed(gain: g, alpha: alpha, mode: mode, seeds: Array(7...11))
                let r = runs.sorted { abs($0.after.exponents[0]) < abs($1.after.exponents[0]) }[runs.count / 2]
                line += " \(mode.rawValue) \(String(format: "%+.4f → %+.4f", r.before.exponents[0], r.after.exponents[0]))"
                if mode != .localExplicit {
                    // Full reaches 10%; local at least halves |λ_max| (design §5's minimum for local).
                    let ok = mode == .full ? reachedZero(r) : abs(r.after.exponents[0]) <= max(0.5 * abs(r.before.exponents[0]), 0.003)
                    #expect(ok, "\(mode) at g = \(g), α = \(alpha)")
                }
            }
            print(line)
        }
    }
}
