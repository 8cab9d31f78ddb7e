import ArgumentParser
import BioRNN

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "List the tasks or sample a batch file from one.",
        subcommands: [List.self, Sample.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered tasks with their shapes and sources.")
        @Flag(help: "Print JSON on stdout.") var json = false

        func run() {
            if json {
                Output.printJSON(.array(TaskRegistry.all.map { t in
                    .object([("name", .string(t.name)), ("summary", .string(t.summary)), ("source", .string(t.source)),
                             ("inputs", .number(Double(t.inputSize))), ("outputs", .number(Double(t.outputSize))),
                             ("steps", .number(Double(t.steps))), ("dt_ms", .number(t.dtMs)), ("loss", .string(t.lossKind.rawValue))])
                }))
            } else {
                for t in TaskRegistry.all {
                    print("\(t.name): \(t.summary)\n    I=\(t.inputSize) O=\(t.outputSize) T=\(t.steps) dt=\(JSONValue.format(t.dtMs)) ms, loss \(t.lossKind.rawValue); \(t.source)")
                }
            }
        }
    }

    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a batch file of B trials of a task (JSON; see “File Formats” in the documentation).")
        @Option(help: "Task name (see `biornn task list`).") var task: String
        @Option(parsing: .unconditional, help: "Number of trials B (required).") var trials: Whole?
        @Option(name: .customLong("batch"), help: .hidden) var oldBatch: String?
        @Option(parsing: .unconditional, help: "Seed of the data stream (the stream `train` draws its training batches from).") var seed: Whole

        func run() throws {
            try refuseRenamed(oldBatch, old: "batch", new: "trials", why: "--batch names a batch file in every other command")
            guard let trials = trials?.value else { throw InputError("trials: missing: the number of trials B (--trials B)") }
            let t = try TaskRegistry.task(named: task)
            guard trials >= 1 && trials <= 100_000 else { throw InputError("trials: must lie in 1…100000, got \(trials)") }
            var rng = RandomStream(seed: try validatedSeed(seed.value), purpose: .data)
            Output.printJSON(t.sample(trials: trials, using: &rng).json)
        }
    }
}
