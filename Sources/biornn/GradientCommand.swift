import ArgumentParser
import BioRNN
import Foundation

struct GradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradient",
        abstract: "Compute a learning rule's loss and gradient for a model on a batch.",
        discussion: """
            Prints {"loss": x, "grads": {"w_in": [[..]], "w_rec": [[..]], "w_out": [[..]], "b_rec": [..], "b_out": [..], "h0": [..]}} \
            with --json (numbers in shortest round-trip form), or a table of gradient norms without it.
            """
    )

    @Option(help: "Model file (JSON; see “File Formats” in the documentation).") var model: String
    @Option(help: "Batch file (JSON; see “File Formats” in the documentation).") var batch: String
    @Option(help: "Learning rule: \(RuleRegistry.names.joined(separator: ", ")).") var rule: String
    @Option(help: "Loss: mse or xent. Optional; it must agree with the batch (targets: mse, labels: xent).") var loss: String?
    @Option(parsing: .unconditional, help: "Seed for the rule's random feedback matrices.") var seed: Whole = 0
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        let net = try RNN.read(path: model)
        let data = try Batch.read(path: batch)
        try data.validate(for: net, source: batch)
        if let loss {
            guard let kind = LossKind(rawValue: loss) else { throw InputError("loss: " + unknownName(loss, kind: "loss", known: LossKind.allCases.map(\.rawValue))) }
            guard kind == data.lossKind else {
                throw InputError("loss: --loss \(loss) but \(batch) has \(data.lossKind == .xent ? "labels (xent)" : "targets (mse)")")
            }
        }
        let learningRule = try RuleRegistry.rule(named: rule, model: net, seed: try validatedSeed(seed.value))
        let result = learningRule.gradient(of: net, on: data)
        let g = result.gradients
        if json {
            Output.printJSON(result.json)
        } else {
            print("rule \(learningRule.name), loss \(result.loss)")
            for (name, path) in Parameters.tensors { print("  ‖∂E/∂\(name)‖ = \(euclideanNorm(g[keyPath: path]))") }
        }
    }
}
