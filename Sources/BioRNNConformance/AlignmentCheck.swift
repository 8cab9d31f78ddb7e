import BioRNN

extension ConformanceKit {
    /// The rule's gradient against BPTT's over the alignment grid: initial networks of `train`
    /// (N = 16, α = 0.2 as on 2AF) from each family and gain, one batch of 8 trials each
    /// (seeds 1…networks; a rule that needs Dale signs on `dale` networks only).
    static func measureAlignment(_ options: Options, _ make: (RNN) throws -> any LearningRule) -> [AlignmentCell] {
        guard let task = try? TaskRegistry.task(named: "perceptual-decision") else { return [] }
        let grid = options.alignment, requirement = options.requirement
        let families = requirement.daleSigns ? ["dale"] : grid.families
        let tensors = ["w_rec", "w_in", "b_rec", "h0"]
        var cells: [AlignmentCell] = []
        for family in families {
            for gain in grid.gains {
                guard let connectivity = try? Connectivity.named(family, gain: gain) else { continue }
                var cosines: [String: [Double]] = [:], signs: [String: [Double]] = [:]
                for seed in 1...UInt64(max(grid.networks, 1)) {
                    let model = RNN.initial(units: min(16, requirement.maxUnits ?? 16), inputs: task.inputSize, outputs: task.outputSize,
                                            alpha: 0.2, activation: requirement.activation ?? (requirement.daleSigns ? .relu : .tanh),
                                            connectivity: connectivity, seed: seed)
                    var rng = RandomStream(seed: seed, purpose: .data)
                    let batch = task.sample(trials: 8, using: &rng)
                    guard let rule = try? make(model) else { continue }
                    let (estimate, exact) = (rule.gradient(of: model, on: batch).gradients, BPTT().gradient(of: model, on: batch).gradients)
                    for (tensor, path) in Parameters.tensors where tensors.contains(tensor) {
                        let (a, b) = (estimate[keyPath: path], exact[keyPath: path])
                        guard a.count == b.count else { continue }   // the shapes check reports it
                        cosines[tensor, default: []].append(cosineSimilarity(a, b))
                        let nonzero = zip(a, b).filter { $0.1 != 0 }
                        if !nonzero.isEmpty {
                            signs[tensor, default: []].append(Double(nonzero.filter { ($0.0 > 0) == ($0.1 > 0) && $0.0 != 0 }.count) / Double(nonzero.count))
                        }
                    }
                }
                func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
                cells.append(AlignmentCell(family: family, gain: gain, networks: grid.networks,
                                           cosine: cosines.mapValues(mean), signAgreement: signs.mapValues(mean)))
            }
        }
        return cells
    }

    /// Every cell's mean cosine against the author's thresholds.
    static func alignmentCheck(_ cells: [AlignmentCell], _ thresholds: [String: Double]) -> ConformanceCheck {
        var failures: [String] = [], margin: (String, Double)?
        func g(_ x: Double) -> String { String(format: "%g", x) }
        for cell in cells {
            for (tensor, least) in thresholds.sorted(by: { $0.key < $1.key }) {
                guard let cosine = cell.cosine[tensor] else { failures.append("\(tensor): no such tensor"); continue }
                if !(cosine >= least) {
                    failures.append("\(cell.family) g=\(g(cell.gain)): \(tensor) cosine \(String(format: "%.3f", cosine)) below \(g(least))")
                } else if cosine - least < (margin?.1 ?? .infinity) {
                    margin = ("\(cell.family) g=\(g(cell.gain)) \(tensor)", cosine - least)
                }
            }
        }
        if !failures.isEmpty {
            return ConformanceCheck(kind: .alignment, passed: false, detail: failures.prefix(3).joined(separator: "; ") + (failures.count > 3 ? "; … (\(failures.count) in all)" : ""))
        }
        let least = thresholds.sorted { $0.key < $1.key }.map { "\($0.key) ≥ \(g($0.value))" }.joined(separator: ", ")
        return ConformanceCheck(kind: .alignment, passed: true,
                                detail: "mean cosine with BPTT in \(cells.count) cells against \(least); least margin \(margin.map { "\($0.0) +\(String(format: "%.3f", $0.1))" } ?? "none")")
    }
}
