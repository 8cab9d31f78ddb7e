import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("biornn lyapunov (end to end)")
struct LyapunovCLITests {
    @Test("lyapunov --json prints exponents (descending), standard errors and units, equal to the library's")
    func matchesLibrary() throws {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 40, inputs: 3, outputs: 3, alpha: 0.5, activation: .tanh, connectivity: .gaussian(gain: 2), seed: 3)
        try model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        let r = try CLI.run(["lyapunov", "--model", "\(dir)/m.json", "--k", "4", "--steps", "800", "--transient", "100", "--seed", "6", "--dt-ms", "20", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var options = LyapunovOptions(transient: 100, steps: 800)
        options.initialConditionSeed = 6
        options.orthonormalSeed = 6
        let expected = try Lyapunov.spectrum(of: RNNMap(model), k: 4, options: options)
        let json = try JSONValue.parse(Data(r.stdout.utf8), source: "stdout")
        #expect(json["exponents"] == JSONValue(expected.exponents))
        #expect(json["stderr"] == JSONValue(expected.standardErrors))
        #expect(json["units"] == .string("per-step"))
        #expect(json["exponents_per_second"] == JSONValue(expected.exponents.map { $0 / 0.02 }))
        #expect(expected.exponents == expected.exponents.sorted(by: >))

        // With --batch, the first trial drives the network.
        var rng = RandomStream(seed: 1, purpose: .data)
        let batch = PerceptualDecisionMaking().sample(trials: 2, using: &rng)
        try batch.json.serialized.write(toFile: "\(dir)/b.json", atomically: true, encoding: .utf8)
        let driven = try CLI.run(["lyapunov", "--model", "\(dir)/m.json", "--batch", "\(dir)/b.json", "--k", "2", "--steps", "300", "--json"])
        let expectedDriven = try Lyapunov.spectrum(of: RNNMap(model, drivenBy: batch), k: 2, options: LyapunovOptions(transient: 500, steps: 300))
        #expect(try JSONValue.parse(Data(driven.stdout.utf8), source: "stdout")["exponents"] == JSONValue(expectedDriven.exponents))
    }

    @Test("bad options exit 2 naming the field")
    func errors() throws {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 5, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 1), seed: 1)
        try model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        for (args, message) in [
            (["--k", "6"], "k: must lie in 1…5 (the number of units), got 6"),
            (["--steps", "0"], "steps: must lie in 1…100000000, got 0"),
            (["--qr-every", "0"], "qr-every: must be ≥ 1, got 0"),
            (["--method", "magic"], "method: unknown method 'magic' (known: qr, tangent, twin)"),
        ] {
            let r = try CLI.run(["lyapunov", "--model", "\(dir)/m.json"] + args)
            #expect(r.status == 2 && r.stderr == "biornn: error: \(message)\n", "\(args): \(r.stderr)")
        }
    }

    @Test("a 256-unit network's full spectrum over 1000 steps takes seconds, not minutes", .enabled(if: ProcessInfo.processInfo.environment["BIORNN_EXTENSIVE"] == "1"))
    func fullSpectrumIsFast() throws {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 256, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 2), seed: 1)
        try model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        let start = Date()
        let r = try CLI.run(["lyapunov", "--model", "\(dir)/m.json", "--k", "256", "--steps", "1000", "--transient", "100", "--json"])
        #expect(r.status == 0)
        #expect(Date().timeIntervalSince(start) < 60)
    }
}
