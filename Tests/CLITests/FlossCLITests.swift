import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("biornn floss (end to end)")
struct FlossCLITests {
    @Test("floss writes the flossed model and prints λ before and after, equal to the library's")
    func flossMatchesLibrary() throws {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 24, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 2), seed: 5)
        try model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        let r = try CLI.run(["floss", "--model", "\(dir)/m.json", "--mode", "local", "--k", "2", "--window", "60", "--transient", "50",
                             "--iterations", "15", "--seed", "4", "--out", "\(dir)/m2.json", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var config = FlossingConfig(mode: .local)
        config.k = 2
        config.window = 60
        config.transient = 50
        var flossed = model
        var flosser = Flosser(config, seed: 4)
        try flosser.floss(&flossed, steps: 15)
        #expect(try RNN.read(path: "\(dir)/m2.json") == flossed)
        let json = try JSONValue.parse(Data(r.stdout.utf8), source: "stdout")
        #expect(json["lambda_before"] == JSONValue(try freshExponents(model, k: 2, seed: 4).exponents))
        #expect(json["lambda_after"] == JSONValue(try freshExponents(flossed, k: 2, seed: 4).exponents))
    }

    @Test("bad floss options exit 2 naming the field, and write nothing")
    func errors() throws {
        let dir = try CLI.temporaryDirectory()
        let model = RNN.initial(units: 4, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 2), seed: 5)
        try model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        for (args, message) in [
            (["--mode", "fast"], "mode: unknown mode 'fast' (known: full, local, local-explicit)"),
            (["--mode", "full", "--k", "5"], "k: must lie in 1…4 (the number of units), got 5"),
            (["--mode", "full", "--window", "0"], "window: must lie in 1…1000000, got 0"),
        ] {
            let r = try CLI.run(["floss", "--model", "\(dir)/m.json", "--iterations", "2", "--out", "\(dir)/never.json"] + args)
            #expect(r.status == 2 && r.stderr == "biornn: error: \(message)\n", "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/never.json"))
        let bad = try CLI.run(["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "1",
                               "--out", "\(dir)/never", "--floss", "mode=local,speed=2"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("biornn: error: floss: unknown key 'speed'"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/never"))
    }
}
