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

    /// A linear map a_{t+1} = W·a_t with W = diag(e^{0.3}, e^{0.1}, e^{−0.2}, e^{−0.5}) (α = 1, φ
    /// linear, no input, a_0 = 0 so the state stays finite) has exactly these exponents, so
    /// D_KY = 3 + (0.3 + 0.1 − 0.2)/0.5 = 3.4 and the entropy rate is 0.3 + 0.1 = 0.4. The QR
    /// method's only error here is its start-up term: the random Q_0 aligns with the axes during the
    /// measurement, which adds the log of Q_0's leading minors (|·| ≤ 2 for this seed) over T: at
    /// T = 10⁵, ≤ 2e-5 per exponent. The entropy rate (two exponents) is then within 4e-5, and
    /// D_KY within (1 + 1 + 1)·2e-5/0.5 + 0.2·2e-5/0.5² ≈ 1.4e-4: tolerances 1e-4 and 2e-4.
    @Test("lyapunov --json adds the Kaplan–Yorke dimension and the entropy rate when k covers them, and says why not otherwise")
    func spectrumSummary() throws {
        let dir = try CLI.temporaryDirectory()
        let rates = [0.3, 0.1, -0.2, -0.5]
        var p = Parameters(zerosWithUnits: 4, inputs: 1, outputs: 1)
        p.wRec = Matrix.diagonal(rates.map { exp($0) })
        try RNN(alpha: 1, activation: .linear, parameters: p).json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        func run(_ k: Int) throws -> JSONValue {
            let r = try CLI.run(["lyapunov", "--model", "\(dir)/m.json", "--k", "\(k)", "--steps", "100000", "--transient", "0", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONValue.parse(Data(r.stdout.utf8), source: "stdout")
        }
        func number(_ v: JSONValue?) -> Double? { if case let .number(x)? = v { return x }; return nil }
        let full = try run(4)
        #expect(abs((number(full["kaplan_yorke_dimension"]) ?? .nan) - 3.4) <= 2e-4, "\(full)")
        #expect(abs((number(full["entropy_rate"]) ?? .nan) - 0.4) <= 1e-4 && full["note"] == nil)
        let three = try run(3)     // λ_1 + λ_2 + λ_3 = 0.2 ≥ 0: the dimension needs λ_4; λ_3 < 0 covers the entropy
        #expect(three["kaplan_yorke_dimension"] == .null && abs((number(three["entropy_rate"]) ?? .nan) - 0.4) <= 1e-4)
        #expect(three["note"] == .string("k = 3 of N = 4: the Kaplan–Yorke dimension needs more exponents (λ_1 + … + λ_3 is still ≥ 0)"))
        let two = try run(2)
        #expect(two["kaplan_yorke_dimension"] == .null && two["entropy_rate"] == .null)
        #expect(two["note"] == .string("k = 2 of N = 4: the Kaplan–Yorke dimension needs more exponents (λ_1 + … + λ_2 is still ≥ 0); the entropy rate needs more exponents (λ_2 is still positive)"))
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
