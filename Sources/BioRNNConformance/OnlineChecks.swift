import BioRNN

extension ConformanceKit {
    /// The three online checks over all cases, and the state size seen.
    struct OnlineTallies {
        var sum = Tally("Σ_t of the step increments against the gradient")
        var causality = Tally("increments up to t with the inputs and targets after t changed, bit for bit", tolerance: 0)
        var state = Tally("values carried after the last step of trials of L = max(3T + 1, buffer + 1) and 2L steps", tolerance: 0)
        var carried: Int?
        /// Why the state was not measured (an external program; a declared buffer too long to run).
        var stateUnmeasured: String?

        func checks() -> [ConformanceCheck] {
            [sum.check(.incrementsSumToGradient), causality.check(.causality)] + (stateUnmeasured == nil ? [state.check(.boundedState)] : [])
        }
    }

    /// The step increments of a whole batch, and the state after the last step.
    static func increments<R: OnlineLearningRule>(_ rule: R, _ model: RNN, _ batch: Batch) -> ([LossAndGradient], Any?) {
        var state = rule.initialState(model, trials: batch.trials)
        let steps = (0..<batch.steps).map { _ in rule.step(&state, model, batch) }
        return (steps, state)
    }

    /// The online checks of one case. `increments` runs the rule step by step on a batch and
    /// returns the increments and the state after the last step (nil when the state cannot be
    /// seen: an external program's).
    /// `bufferedSteps`: the steps the rule declares its state may grow for.
    static func checkOnline(_ model: RNN, _ batch: Batch, gradient: LossAndGradient, index: Int, _ options: Options, bufferedSteps: Int = 0,
                            _ tallies: inout OnlineTallies, increments: (Batch) -> ([LossAndGradient], Any?)) {
        let (steps, finalState) = increments(batch)
        guard steps.count == batch.steps else {
            tallies.sum.fail("case \(index): \(steps.count) increments for \(batch.steps) steps")
            return
        }

        // Σ_t ΔE_t = E and Σ_t Δθ_t = the gradient (the same sums in another order: 1e-10, and
        // 1e-12 for the loss, a sum of ≤ 10³ positive terms).
        var total = LossAndGradient(loss: 0, gradients: Parameters(zerosLike: model.parameters))
        for step in steps { total.accumulate(step) }
        tallies.sum.record(index, compare(total.gradients, gradient.gradients))
        let lossError = abs(total.loss - gradient.loss) / max(abs(gradient.loss), 1e-300)
        if !(lossError <= 1e-12) { tallies.sum.fail("case \(index): loss \(total.loss), the gradient's \(gradient.loss)") }

        // Causality: the data after step t changed, the increments up to t unchanged bit for bit.
        let cut = max(1, batch.steps / 2)
        var rng = RandomStream(seed: options.seed, purpose: .testCase, index: 1000 + index)
        let (changed, _) = increments(batch.changing(after: cut, outputs: model.outputs, using: &rng))
        tallies.causality.cases += 1
        for t in 1...min(cut, changed.count) where changed[t - 1].gradients != steps[t - 1].gradients || changed[t - 1].loss.bitPattern != steps[t - 1].loss.bitPattern {
            tallies.causality.fail("case \(index): the increment of step \(t) changed when the data after step \(cut) did")
            break
        }

        // The state after 2L steps holds as many values as after L, both longer than the trial and
        // than the buffer the rule declares (which may fill during its first steps).
        guard finalState != nil else { tallies.stateUnmeasured = "an external program's state is its own"; return }
        guard bufferedSteps <= maxBufferedSteps else {
            tallies.stateUnmeasured = "its buffer of \(bufferedSteps) steps is longer than the \(maxBufferedSteps) the kit checks"
            return
        }
        let length = max(3 * batch.steps + 1, bufferedSteps + 1), double = 2 * length
        let (_, shortState) = increments(batch.repeating(toSteps: length)), (_, longState) = increments(batch.repeating(toSteps: double))
        let (short, long) = (carriedValues(shortState as Any), carriedValues(longState as Any))
        tallies.state.cases += 1
        tallies.carried = max(tallies.carried ?? 0, short)
        if long != short {
            tallies.state.fail("case \(index): \(short) values after \(length) steps, \(long) after \(double)")
        }
    }

    /// The longest declared buffer whose bound the kit checks (it runs trials of twice that).
    static let maxBufferedSteps = 2048

    /// The number of values in a state: the elements of its arrays and matrices and every scalar
    /// field, found by reflection (so a rule cannot under-report what it carries).
    static func carriedValues(_ value: Any) -> Int {
        switch value {
        case let v as [Double]: return v.count
        case let v as [Int]: return v.count
        case let m as Matrix: return m.storage.count
        default:
            let children = Mirror(reflecting: value).children
            return children.isEmpty ? 1 : children.reduce(0) { $0 + carriedValues($1.value) }
        }
    }
}

extension Batch {
    /// The same batch with the inputs and targets (or labels) of steps after `step` redrawn.
    func changing(after step: Int, outputs: Int, using rng: inout RandomStream) -> Batch {
        var out = self
        let (B, I) = (trials, inputSize)
        for idx in (step * B * I)..<(steps * B * I) { out.inputs[idx] = rng.normal() }
        if var targets = out.targets {
            for idx in (step * B * targetSize)..<(steps * B * targetSize) { targets[idx] = rng.normal() }
            out.targets = targets
        }
        if var labels = out.labels {
            for idx in (step * B)..<(steps * B) { labels[idx] = (labels[idx] + 1 + rng.index(below: outputs - 1)) % outputs }
            out.labels = labels
        }
        return out
    }

    /// The batch's steps repeated in order until it has `count` steps.
    func repeating(toSteps count: Int) -> Batch {
        func tile<T>(_ v: [T], width: Int) -> [T] {
            (0..<count).flatMap { t in v[((t % steps) * trials * width)..<((t % steps + 1) * trials * width)] }
        }
        return Batch(steps: count, trials: trials, inputSize: inputSize, inputs: tile(inputs, width: inputSize),
                     targets: targets.map { tile($0, width: targetSize) }, targetSize: targetSize,
                     labels: labels.map { tile($0, width: 1) }, mask: tile(mask, width: 1))
    }
}
