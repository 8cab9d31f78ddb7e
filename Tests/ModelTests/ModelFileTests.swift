import BioRNN
import BioRNNConformance
import PropertyBased
import BioRNNTesting
import Foundation
import Testing

@Suite("Model and batch files")
struct ModelFileTests {
    func parseModel(_ text: String) throws -> RNN { try RNN(json: JSONValue.parse(Data(text.utf8), source: "m.json"), source: "m.json") }
    func parseBatch(_ text: String) throws -> Batch { try Batch(json: JSONValue.parse(Data(text.utf8), source: "b.json"), source: "b.json") }

    @Test("a model survives write → read bit for bit, extra keys included")
    func modelRoundTrip() throws {
        var model = RandomNetworkCase(seed: 3, units: 5, inputs: 2, outputs: 3, steps: 1, trials: 1, alpha: 0.37, activation: .softplus, loss: .mse).model
        model.extras = ["gain": .number(1.5), "note": .string("kept \"as is\""), "nested": .object([("a", .array([.null, .bool(true)]))])]
        model.daleSigns = [1, 1, 1, -1, -1]
        model.noiseSD = 0.05
        let back = try RNN(json: JSONValue.parse(Data(model.json.serialized.utf8), source: "x"), source: "x")
        #expect(back == model)
    }

    @Test("optional fields default to zero; W_in may have zero columns")
    func defaults() throws {
        let m = try parseModel(#"{"alpha": 1, "activation": "linear", "w_in": [[], []], "w_rec": [[0, 1], [1, 0]], "w_out": [[1, 2]]}"#)
        #expect(m.parameters.bRec == [0, 0] && m.parameters.bOut == [0] && m.parameters.h0 == [0, 0] && m.inputs == 0)
    }

    @Test("bad model files: one line naming the file and the field", arguments: [
        (#"{"alpha": 0.5, "activation": "tanh", "w_in": [[1],[1]], "w_rec": [[1,0],[0]], "w_out": [[1,1]]}"#, "m.json: w_rec: ragged rows: row 0 has 2 entries, row 1 has 1"),
        (#"{"alpha": 0.5, "activation": "tanh", "w_in": [[1],[1]], "w_rec": [[1,0,0],[0,1,0]], "w_out": [[1,1]]}"#, "m.json: w_rec: expected 2×2, got 2×3"),
        (#"{"alpha": 0.5, "activation": "tanh", "w_in": [[1],[1],[1]], "w_rec": [[1,0],[0,1]], "w_out": [[1,1]]}"#, "m.json: w_in: expected 2×1, got 3×1"),
        (#"{"alpha": 0.5, "activation": "tanh", "w_in": [[1],[1]], "w_rec": [[1,0],[0,1]], "w_out": [[1,1,1]]}"#, "m.json: w_out: expected 1×2, got 1×3"),
        (#"{"alpha": 1.5, "activation": "tanh", "w_in": [[1]], "w_rec": [[1]], "w_out": [[1]]}"#, "m.json: alpha: must lie in (0, 1], got 1.5"),
        (#"{"alpha": 0, "activation": "tanh", "w_in": [[1]], "w_rec": [[1]], "w_out": [[1]]}"#, "m.json: alpha: must lie in (0, 1], got 0.0"),
        (#"{"activation": "tanh", "w_in": [[1]], "w_rec": [[1]], "w_out": [[1]]}"#, "m.json: alpha: missing"),
        (#"{"alpha": 1, "activation": "sigmoid", "w_in": [[1]], "w_rec": [[1]], "w_out": [[1]]}"#, "m.json: activation: unknown activation 'sigmoid' (known: tanh, retanh, relu, softplus, linear)"),
        (#"{"alpha": 1, "activation": "tanh", "w_in": [[1]], "w_rec": [[1e999]], "w_out": [[1]]}"#, "m.json: not valid JSON (number out of range at byte 61)"),
        (#"{"alpha": 1, "activation": "tanh", "w_in": [[1]], "w_rec": [["x"]], "w_out": [[1]]}"#, "m.json: w_rec[0][0]: expected a number, got a string"),
        (#"{"alpha": 1, "activation": "tanh", "w_in": [[1]], "w_rec": [], "w_out": [[1]]}"#, "m.json: w_rec: empty matrix"),
        (#"{"alpha": 1, "activation": "tanh", "w_in": [[1]], "w_rec": [[1]], "w_out": [[1]], "b_rec": [1, 2]}"#, "m.json: b_rec: expected 1 entries, got 2"),
        (#"[1, 2]"#, "m.json: expected a JSON object, got an array"),
        (#"{"alpha": 1,"#, "m.json: not valid JSON (expected a key at byte 12)"),
    ])
    func badModels(text: String, message: String) {
        #expect(throws: InputError(message)) { try parseModel(text) }
    }

    @Test("a batch survives write → read; targets and labels are told apart")
    func batchRoundTrip() throws {
        for loss in LossKind.allCases {
            let batch = RandomNetworkCase(seed: 8, units: 2, inputs: 3, outputs: 2, steps: 4, trials: 3, alpha: 1, activation: .tanh, loss: loss).batch
            let back = try parseBatch(batch.json.serialized)
            #expect(back == batch && back.lossKind == loss)
        }
        let noMask = try parseBatch(#"{"inputs": [[[1]], [[2]]], "labels": [[0], [1]]}"#)
        #expect(noMask.mask == [1, 1])
    }

    @Test("bad batch files: one line naming the file and the field", arguments: [
        (#"{"inputs": [[[1]], [[2], [3]]], "labels": [[0], [1]]}"#, "b.json: inputs[1]: expected 1 trials, got 2"),
        (#"{"inputs": [[[1]], [[2, 3]]], "labels": [[0], [1]]}"#, "b.json: inputs[1][0]: expected 1 entries, got 2"),
        (#"{"inputs": [[[1]], [[2]]], "labels": [[0]]}"#, "b.json: labels: expected 2 time steps, got 1"),
        (#"{"inputs": [[[1]], [[2]]], "labels": [[0], [1.5]]}"#, "b.json: labels[1][0]: must be a class index ≥ 0, got 1.5"),
        (#"{"inputs": [[[1]], [[2]]], "targets": [[[0]], [[1]]], "mask": [[1], [0.5]]}"#, "b.json: mask[1][0]: must be 0 or 1, got 0.5"),
        (#"{"inputs": [[[1]]], "targets": [[[0]]], "labels": [[0]]}"#, "b.json: targets: a batch has targets (mse) or labels (xent), not both"),
        (#"{"inputs": [[[1]]]}"#, "b.json: targets: missing: a batch needs targets (mse) or labels (xent)"),
        (#"{"inputs": [], "labels": []}"#, "b.json: inputs: empty: no time steps"),
    ])
    func badBatches(text: String, message: String) {
        #expect(throws: InputError(message)) { try parseBatch(text) }
    }
}

@Suite("JSON numbers")
struct JSONNumberTests {
    @Test("every finite Double survives serialise → parse bit for bit (subnormals and extremes included)")
    func roundTrip() async throws {
        await propertyCheck(count: 300, input: Gen<UInt64>.value().array(of: 1...50)) { patterns in
            let xs = patterns.map { Double(bitPattern: $0) }.filter(\.isFinite) + [0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 1e15, 123456789012345680]
            let parsed = try JSONValue.parse(Data(JSONValue(xs).serialized.utf8), source: "x")
            guard case let .array(items) = parsed else { Issue.record("not an array"); return }
            let back = items.compactMap { if case let .number(v) = $0 { return v } else { return nil } }
            #expect(back.map(\.bitPattern) == xs.map(\.bitPattern))
        }
    }

    @Test("strings with escapes and non-ASCII text round-trip; malformed documents name the (0-based) byte")
    func strings() throws {
        let s = "tab\there \"quoted\" back\\slash ünïcode 🧠 \u{01}"
        #expect(try JSONValue.parse(Data(JSONValue.string(s).serialized.utf8), source: "x") == .string(s))
        #expect(try JSONValue.parse(Data(#""\ud83e\udde0""#.utf8), source: "x") == .string("🧠"))
        #expect(throws: InputError("f: not valid JSON (duplicate key 'a' at byte 12)")) { try JSONValue.parse(Data(#"{"a": 1, "a": 2}"#.utf8), source: "f") }
        #expect(throws: InputError("f: not valid JSON (unexpected text after the document at byte 4)")) { try JSONValue.parse(Data("[1] 2".utf8), source: "f") }
    }
}
