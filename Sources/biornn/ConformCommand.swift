import ArgumentParser
import BioRNN
import BioRNNConformance
import Foundation

struct ConformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Run the learning-rule conformance kit on a built-in rule or on a rule computed by another program.",
        discussion: """
            Prints the kit's report: every check with what it compared, the worst tensor and its margin, whether the rule \
            is online, and its alignment with BPTT. Exits 0 when every check passes and 1 when one fails. With --exec, \
            BioRNN writes a model and a batch file for every gradient and runs `/bin/sh -c 'CMD MODEL.json BATCH.json'`; \
            the program prints {"loss": x, "grads": {...}} as `biornn gradient --json` does, optionally with the per-step \
            "increments" of an online rule. The protocol is in “Validating a Learning Rule” in the documentation.
            """
    )

    @Option(help: "A built-in rule: \(RuleRegistry.names.joined(separator: ", ")).") var rule: String?
    @Option(help: "A command that computes the rule's gradient (see the discussion).") var exec: String?
    @Option(help: "The rule's name in the report (default: the rule or the command).") var name: String?
    @Option(help: "An exact relation the external rule claims (repeatable): \(ExactRelation.allCases.map(\.rawValue).joined(separator: ", ")).")
    var claims: [String] = []
    @Option(help: "The least mean cosine with BPTT a tensor must reach in every alignment cell, as TENSOR=VALUE (repeatable; e.g. w_rec=0.5).")
    var alignmentThreshold: [String] = []
    @Option(parsing: .unconditional, help: "Random networks per check (1…100).") var cases: Whole = 12
    @Option(parsing: .unconditional, help: "Seed of the random networks.") var seed: Whole = 2024

    func run() throws {
        guard (rule == nil) != (exec == nil) else { throw InputError("rule: give exactly one of --rule and --exec") }
        guard (1...100).contains(cases.value) else { throw InputError("cases: must lie in 1…100, got \(cases.value)") }
        var options = ConformanceKit.Options()
        options.cases = cases.value
        options.seed = try validatedSeed(seed.value)
        for entry in alignmentThreshold {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]), value.isFinite else {
                throw InputError("alignment-threshold: expected TENSOR=VALUE, got '\(entry)'")
            }
            guard ["w_rec", "w_in", "b_rec", "h0"].contains(parts[0]) else {
                throw InputError("alignment-threshold: " + unknownName(parts[0], kind: "tensor", known: ["w_rec", "w_in", "b_rec", "h0"]))
            }
            options.alignmentThresholds[parts[0]] = value
        }
        let report: ConformanceReport
        var external: ExternalRule?
        let progressLine = ProgressLine(name: "conform", unit: "parts")
        let progress = { (done: Int, total: Int) in progressLine.update(done, of: total) }
        if let rule {
            guard claims.isEmpty else { throw InputError("claims: a built-in rule declares its own relations; --claims is for --exec") }
            options.requirement = try RuleRegistry.requirement(of: rule)
            report = ConformanceKit.run(name: name ?? rule, options: options, progress: progress) { model in try RuleRegistry.rule(named: rule, model: model, seed: 7) }
        } else {
            let relations = try Set(claims.map { claim in
                guard let relation = ExactRelation(rawValue: claim) else {
                    throw InputError("claims: " + unknownName(claim, kind: "relation", known: ExactRelation.allCases.map(\.rawValue)))
                }
                return relation
            })
            let (model, batch) = ConformanceKit.network(0, options)
            let program = try ExternalRule(command: exec!, name: name ?? exec!, exactRelations: relations, firstRunOn: model, batch)
            external = program
            report = ConformanceKit.run(name: program.name, options: options, progress: progress) { _ in program }
        }
        Output.endProgress()
        print(report, terminator: "")
        if let failures = external?.programFailures, !failures.isEmpty {
            print("  the program failed \(failures.count == 5 ? "at least 5 times" : "\(failures.count) time\(failures.count == 1 ? "" : "s")"); first: \(failures[0])")
        }
        if !report.passed { throw ExitCode(1) }
    }
}
