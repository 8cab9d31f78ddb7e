import BioRNN
import Testing

/// One determinism and shape test over the whole registry (neurogym's pattern): a task added to
/// `TaskRegistry.all` is covered without writing a new test.
@Suite("Task registry")
struct TaskRegistryTests {
    static let names = TaskRegistry.names

    func sample(_ task: any Task, trials: Int = 16, seed: UInt64) -> Batch {
        var rng = RandomStream(seed: seed, purpose: .data)
        return task.sample(trials: trials, using: &rng)
    }

    @Test("same seed gives the identical batch", arguments: names)
    func determinism(name: String) throws {
        let task = try TaskRegistry.task(named: name)
        #expect(sample(task, seed: 7) == sample(task, seed: 7))
    }

    @Test("a different seed gives a different batch (pattern generation is frozen by design)", arguments: names)
    func seedsMatter(name: String) throws {
        let task = try TaskRegistry.task(named: name)
        if name == "pattern-generation" {
            #expect(sample(task, seed: 7) == sample(task, seed: 8))
        } else {
            #expect(sample(task, seed: 7) != sample(task, seed: 8))
        }
    }

    @Test("shapes are as declared; labels and targets consistent with the mask", arguments: names)
    func shapes(name: String) throws {
        let task = try TaskRegistry.task(named: name)
        let b = sample(task, trials: 9, seed: 3)
        #expect(b.steps == task.steps && b.trials == 9 && b.inputSize == task.inputSize)
        #expect(b.inputs.count == task.steps * 9 * task.inputSize && b.inputs.allSatisfy(\.isFinite))
        #expect(b.lossKind == task.lossKind)
        #expect(b.mask.allSatisfy { $0 == 0 || $0 == 1 } && b.mask.contains(1))
        switch task.lossKind {
        case .xent:
            let labels = try #require(b.labels)
            #expect(labels.allSatisfy { $0 >= 0 && $0 < task.outputSize })
            // Unmasked steps carry no label but the default 0 (fixation / class 0).
            #expect(zip(labels, b.mask).allSatisfy { $1 == 1 || $0 == 0 })
        case .mse:
            #expect(b.targetSize == task.outputSize && b.targets?.count == task.steps * 9 * task.outputSize)
        }
        #expect(!task.source.isEmpty && !task.summary.isEmpty && task.dtMs > 0)
    }

    @Test("neurogym tasks: the mask is on exactly in the final decision period, with a choice label (1 or 2) there, and fixation is off there",
          arguments: ["perceptual-decision", "delay-match-sample", "context-decision"])
    func decisionPeriod(name: String) throws {
        let task = try TaskRegistry.task(named: name)
        let b = sample(task, trials: 12, seed: 5)
        let decisionSteps = Int((100 / task.dtMs).rounded())
        for t in 0..<b.steps {
            let inDecision = t >= b.steps - decisionSteps
            for trial in 0..<b.trials {
                let row = t * b.trials + trial
                #expect(b.mask[row] == (inDecision ? 1 : 0))
                if inDecision { #expect([1, 2].contains(b.labels![row])) }
                #expect(b.inputs[row * b.inputSize] == (inDecision ? 0 : 1))   // fixation channel
            }
        }
    }

    @Test("delayed XOR: label_t = bit_{t−d} ⊕ bit_{t−2d}, masked in from t = 2d")
    func delayedXOR() {
        let task = DelayedXOR(delay: 3, steps: 20)
        let b = sample(task, trials: 5, seed: 2)
        for trial in 0..<5 {
            let bits = (0..<20).map { b.inputs[$0 * 5 + trial] > 0 ? 1 : 0 }
            for t in 0..<20 {
                #expect(b.mask[t * 5 + trial] == (t >= 6 ? 1 : 0))
                if t >= 6 { #expect(b.labels![t * 5 + trial] == bits[t - 3] ^ bits[t - 6]) }
            }
        }
    }

    @Test("2AF: channel means differ by coherence/100 in the stimulus period, on the labelled side")
    func perceptualEvidence() {
        let task = PerceptualDecisionMaking()
        let b = sample(task, trials: 2000, seed: 9)
        // Mean over trials of (correct − wrong channel) equals mean coherence/100 = 0.192, with
        // s.e. √2·σ/√(dt·n) over n = 2000·25 samples ≈ 0.0014; 5 s.e. ≈ 0.007.
        var diff = 0.0, count = 0.0
        for trial in 0..<2000 {
            let label = b.labels![(b.steps - 1) * 2000 + trial]
            for t in 5..<30 {
                let row = (t * 2000 + trial) * 3
                diff += label == 1 ? b.inputs[row + 1] - b.inputs[row + 2] : b.inputs[row + 2] - b.inputs[row + 1]
                count += 1
            }
        }
        #expect(abs(diff / count - 0.192) <= 0.007 + 0.192 * 0.05)   // + 5% for the finite draw of coherences
    }

    @Test("unknown task names are refused with the list of known ones")
    func unknown() {
        #expect(throws: InputError("task: unknown task 'nope' (known: perceptual-decision, delay-match-sample, context-decision, delayed-xor, pattern-generation)")) {
            try TaskRegistry.task(named: "nope")
        }
    }
}
