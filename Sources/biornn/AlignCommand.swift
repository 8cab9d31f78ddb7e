import ArgumentParser
import BioRNN
import Foundation

struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Cosine similarity between each rule's gradient and BPTT's, over seeds.",
        discussion: """
            For seeds 1…S, builds the initial network `train` would build with that seed (ModProp: a Dale network \
            with relu at the same gain, as ModProp requires), draws one batch from the task, and reports the cosine of each rule's \
            W_rec and W_in gradient with BPTT's: mean and standard deviation over seeds, as a table or as JSON.
            """
    )

    @Option(help: "Task name (see `biornn task list`).") var task: String
    @Option(parsing: .unconditional, help: "Gain g of the initial recurrent weights.") var gain: Double
    @Option(parsing: .unconditional, help: "Number of seeds S (seeds 1…S; at most 10⁴).") var seeds: Whole
    @Option(name: .customLong("init"), help: "Initial connectivity for the rules that do not require another.") var initFamily = "gaussian"
    @Option(parsing: .unconditional, help: "Number of recurrent units N.") var units: Whole = 64
    @Option(parsing: .unconditional, help: "Trials per batch.") var trials: Whole = 32
    @Option(help: "Comma-separated rules to compare with BPTT.") var rules = GradientAlignment.defaultRules.joined(separator: ",")
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        let (seeds, units, trials) = (self.seeds.value, self.units.value, self.trials.value)
        guard trials >= 1 else { throw InputError("trials: must be ≥ 1, got \(trials)") }
        let names = rules.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let steps = try TaskRegistry.task(named: task).steps
        let progress = ProgressLine(name: "align", unit: "gradients")
        let rows = try GradientAlignment.measure(task: task, gain: gain, initFamily: initFamily, seeds: seeds,
                                                 units: units, trials: trials, rules: names) { done, total in
            if done == 0 {   // every input checked: say how big the work is
                Output.announce("align", multiplyAdds: Double(total + seeds) * Double(trials * steps) * Double(units * units) * 6,
                                what: "\(names.count) rules × \(seeds) seeds of \(trials) trials, N = \(units)")
            }
            progress.update(done, of: total)
        }
        Output.endProgress()
        if json {
            func stats(_ v: [Double]) -> JSONValue {
                let (m, sd) = meanAndSD(v)
                return .object([("mean", .number(m)), ("sd", .number(sd)), ("values", JSONValue(v))])
            }
            Output.printJSON(.object([
                ("task", .string(task)), ("gain", .number(gain)), ("seeds", .number(Double(seeds))), ("units", .number(Double(units))),
                ("rules", .array(rows.map { r in
                    .object([("rule", .string(r.rule)), ("network", .string(r.network)), ("w_rec", stats(r.wRec)), ("w_in", stats(r.wIn))])
                })),
            ]))
        } else {
            print("cosine with BPTT, \(task), g = \(JSONValue.format(gain)), N = \(units), \(seeds) seeds (mean ± s.d.)")
            print("rule".padding(toLength: 14, withPad: " ", startingAt: 0) + "network".padding(toLength: 16, withPad: " ", startingAt: 0) + "W_rec            W_in")
            for r in rows {
                let (a, sa) = meanAndSD(r.wRec), (b, sb) = meanAndSD(r.wIn)
                print(r.rule.padding(toLength: 14, withPad: " ", startingAt: 0) + r.network.padding(toLength: 16, withPad: " ", startingAt: 0)
                      + String(format: "%6.3f ± %5.3f   %6.3f ± %5.3f", a, sa, b, sb))
            }
        }
    }
}
