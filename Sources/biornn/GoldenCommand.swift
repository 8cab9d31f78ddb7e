import ArgumentParser
import BioRNN
import Foundation

struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Regression-check numerics against the golden corpus (fixtures/golden), or record it.",
        discussion: """
            check recomputes every entry of the corpus and prints a drift table, failures first: entry, layer, tolerance \
            class, the largest change (absolute, relative, in ulps), the budget and a verdict (identical, within rounding, \
            within statistics, BEYOND); it exits 1 when anything is beyond its tolerance. record recomputes entries and \
            writes them with provenance. The workflow and the schema are in “Golden Values” in the documentation.
            """,
        subcommands: [Check.self, Record.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the corpus and print what moved; exit 1 when anything is beyond tolerance.")
        @Option(help: "Corpus directory.") var corpus = "fixtures/golden"
        @Flag(help: "Print the drifts as JSON on stdout.") var json = false

        func run() throws {
            let entries = try GoldenCorpus.read(corpus)
            guard !entries.isEmpty else { throw InputError("\(corpus): no entries (record them with `biornn golden record`)") }
            let progress = ProgressLine(name: "golden check", unit: "entries")
            let drifts = try GoldenCheck.run(entries, cases: GoldenCases.all(corpus: corpus)) { progress.update($0, of: $1) }
            Output.endProgress()
            if json { Output.printJSON(GoldenCheck.json(drifts)) } else { print(GoldenCheck.table(drifts)) }
            if drifts.contains(where: { $0.verdict == .beyond }) { throw ExitCode(1) }
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute entries and write them to the corpus with provenance.",
            discussion: "Without --layer or --name every entry is recorded. Entries already in the corpus are replaced only with --force; the others stay as they are.")
        @Option(help: "Corpus directory.") var corpus = "fixtures/golden"
        @Option(help: "Record only this layer (repeatable): \(GoldenCases.layers.joined(separator: ", ")).") var layer: [String] = []
        @Option(help: "Record only entries whose name starts with this (repeatable).") var name: [String] = []
        @Flag(help: "Replace entries the corpus already holds.") var force = false

        func run() throws {
            for l in layer where !GoldenCases.layers.contains(l) { throw InputError("layer: " + unknownName(l, kind: "layer", known: GoldenCases.layers)) }
            let cases = GoldenCases.all(corpus: corpus)
            let selected = cases.filter { c in
                (layer.isEmpty || layer.contains(c.layer)) && (name.isEmpty || name.contains { c.name.hasPrefix($0) })
            }
            guard !selected.isEmpty else { throw InputError("name: no entry's name starts with \(name.map { "'\($0)'" }.joined(separator: " or "))") }
            let existing = FileManager.default.fileExists(atPath: corpus) ? try GoldenCorpus.read(corpus) : []
            let clashes = selected.filter { c in existing.contains { $0.name == c.name } }
            if !clashes.isEmpty && !force {
                throw InputError("\(corpus): holds \(clashes.count) of these entries (e.g. \(clashes[0].name)); pass --force to replace them")
            }
            let provenance = GoldenProvenance.current(computedBy: "biornn golden record")
            var recorded: [String: GoldenEntry] = [:]
            for c in selected { recorded[c.name] = try c.entry(provenance: provenance) }
            // Keep the corpus in the cases' order; entries no case computes any more stay at the end.
            let names = Set(cases.map(\.name))
            let merged = cases.compactMap { c in recorded[c.name] ?? existing.first { $0.name == c.name } }
                + existing.filter { !names.contains($0.name) }
            try GoldenCorpus.write(merged, to: corpus)
            print("golden: recorded \(recorded.count) entries in \(corpus) (\(provenance.openblasCore), \(provenance.threads) threads, commit \(provenance.commit))")
        }
    }
}
