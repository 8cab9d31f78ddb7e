/// The grid `biornn reproduce` runs (<doc:TheStudy>), at three scales. All three share the design:
///
/// - the paper's three neurogym tasks (2AF, delay-match-sample, context-dependent decision making)
///   and delayed XOR;
/// - a gain axis from ordered to chaotic: at N = 128 no initial network is chaotic at g ≤ 1 and
///   every one is at g = 4, on every task (autonomous and driven λ_max, 8 seeds each; the
///   calibration is in <doc:TheStudy>);
/// - every rule on Gaussian/tanh and on the Dale/relu networks ModProp needs, so that each rule
///   contrast is like for like;
/// - e-prop flossed before training (local and full, k = 1), during training (local, every 50
///   iterations) and with k = 3, with more seeds (`floss_seeds`) for the paired comparisons;
/// - Adam at learning rate 0.001: at N = 128 and lr = 0.01 BPTT stays at chance on
///   delay-match-sample (3 of 3 seeds), at 0.001 it learns it within 100 iterations (3 of 3);
/// - ModProp at μ = 0.1 (`modprop:0.1`), the best of 0.1, 0.2 and 0.5 on delayed XOR.
public enum StudyScale: String, CaseIterable, Sendable {
    /// Minutes on 2 cores: CI's smoke test of the whole pipeline (N = 32, 3 gains, 2–3 seeds).
    case quick
    /// About the size whose Findings the README reports (N = 128, 6 gains, 5 seeds, 10 for flossing).
    case standard = "default"
    /// The paper's size (N = 300, 8 gains, 10 seeds, 20 for flossing); for a cluster, through
    /// `--list` or Slurm, not for one machine.
    case paper

    public var config: SweepConfig {
        let tasks = ["perceptual-decision", "delay-match-sample", "context-decision", "delayed-xor"]
        let (gains, seeds, flossSeeds, units, iterations): ([Double], [UInt64], [UInt64], Int, Int) = switch self {
        case .quick: ([0.5, 1.5, 4], [1, 2], [1, 2, 3], 32, 100)
        case .standard: ([0.5, 1, 1.5, 2, 3, 4], Array(1...5), Array(1...10), 128, 300)
        case .paper: ([0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4], Array(1...10), Array(1...20), 300, 2000)
        }
        var c = SweepConfig(tasks: tasks, gains: gains, rules: ["bptt", "eprop", "eprop-random", "modprop:0.1"], seeds: seeds)
        c.networks = [("gaussian", .tanh), ("dale", .relu)]
        let window = self == .quick ? "window=50,transient=50" : "window=200,transient=300"
        // Every specification here is valid (a test reads every scale's grid).
        try! c.setFlossing([("none", nil),
                            ("local-pre", "mode=local,k=1,\(window),pre=\(self == .quick ? 20 : 100)"),
                            ("full-pre", "mode=full,k=1,window=50,transient=\(self == .quick ? 50 : 300),pre=\(self == .quick ? 20 : 100)"),
                            ("local-during", "mode=local,k=1,\(window),every=50,count=\(self == .quick ? 2 : 5)"),
                            ("local-pre-k3", "mode=local,k=3,\(window),pre=\(self == .quick ? 20 : 100)")])
        c.flossRules = ["eprop"]
        c.flossSeeds = flossSeeds
        c.iterations = iterations
        c.units = units
        c.set(.learningRate, [.number(0.001)])
        c.logEvery = self == .quick ? 10 : 25
        c.evalTrials = self == .quick ? 64 : 256
        return c
    }

    /// "N = 32, gains 0.5, 1.5, 4, 2 seeds (3 for flossing), 100 iterations, 480 runs", read off
    /// `config` for help texts and listings.
    public var summary: String {
        let c = config
        func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
        return "N = \(c.units), gains \(c.gains.map(number).joined(separator: ", ")), \(c.seeds.count) seeds "
            + "(\(c.flossSeeds?.count ?? c.seeds.count) for flossing), \(c.iterations) iterations, \(c.runs.count) runs"
    }
}
