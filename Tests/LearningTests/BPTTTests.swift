import BioRNN
import BioRNNConformance
import BioRNNTesting
import Foundation
import PropertyBased
import Testing

let smallNetworks = zip(
    Gen<UInt64>.value(), Gen.int(in: 1...12), Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.int(in: 1...20),
    Gen.int(in: 1...3), Gen.double(in: 0.05...1), Gen<Activation>.case, Gen<LossKind>.case
).map { RandomNetworkCase(seed: $0, units: $1, inputs: $2, outputs: $3, steps: $4, trials: $5, alpha: $6, activation: $7, loss: $8) }

/// Smallest |a| over every state of every trial: relu and retanh have kinks at 0, where finite
/// differences do not estimate the (one-sided) derivative; such draws are skipped.
func distanceToKinks(_ model: RNN, _ batch: Batch) -> Double {
    guard model.activation == .relu || model.activation == .retanh else { return .infinity }
    return model.run(batch).a.map(abs).min() ?? .infinity
}

@Suite("BPTT")
struct BPTTTests {
    @Test("BPTT equals GSL central differences of the reference loss along a random direction in every tensor")
    func matchesFiniteDifferences() async throws {
        // Error budget. gsl_deriv_central's 5-point rule with step h = 1e-5 has truncation error
        // O(h⁴·E⁽⁵⁾) ≈ 1e-20 and rounding error ≈ u·|E|/h ≈ 1e-11·|E|, and reports an estimate
        // of both (abserr). The directional derivative is at most ‖∇_W E‖·‖d‖ (Cauchy–Schwarz), so
        // we demand |BPTT − FD| ≤ 1e-6·‖∇_W E‖·‖d‖ + 4·abserr: five orders above rounding, and a
        // wrong term in any tensor's gradient gives an O(1) relative error on that scale.
        var skipped = 0
        await propertyCheck(count: 120, input: smallNetworks) { c in
            let (model, batch) = (c.model, c.batch)
            guard distanceToKinks(model, batch) > 1e-2 else { skipped += 1; return }
            let grad = BPTT().gradient(of: model, on: batch).gradients
            var rng = RandomStream(seed: c.seed, name: "directions")
            for (name, path) in Parameters.tensors {
                let d = Parameters.randomDirection(like: model.parameters, tensor: name, using: &rng)
                let fd = try GSL.derivative(at: 0, step: 1e-5) { eps in
                    var moved = model
                    moved.parameters = model.parameters.moved(by: eps, along: d)
                    return ReferenceRNN.loss(moved, batch)
                }
                let analytic = grad.dot(d)
                let scale = euclideanNorm(grad[keyPath: path]) * euclideanNorm(d[keyPath: path])
                #expect(abs(analytic - fd.value) <= 1e-6 * scale + 4 * fd.error, "\(name): BPTT \(analytic), FD \(fd.value) ± \(fd.error)")
            }
        }
        #expect(skipped <= 60, "too many draws near relu/retanh kinks: the property barely ran")
    }

    @Test("with a single unit, one step and linear φ, every gradient has its closed form")
    func closedForm() {
        // a1 = (1−α)h0 + α(w·h0 + u·x + b), y = v·a1 + c, E = ½(y − z)².
        let (alpha, w, u, b, v, c, h0, x, z) = (0.4, 0.7, -1.3, 0.2, 1.9, -0.1, 0.5, 2.0, 0.3)
        let p = Parameters(wIn: Matrix([[u]]), wRec: Matrix([[w]]), wOut: Matrix([[v]]), bRec: [b], bOut: [c], h0: [h0])
        let model = RNN(alpha: alpha, activation: .linear, parameters: p)
        let batch = Batch(steps: 1, trials: 1, inputSize: 1, inputs: [x], targets: [z], targetSize: 1)
        let a1 = (1 - alpha) * h0 + alpha * (w * h0 + u * x + b)
        let e = v * a1 + c - z
        let g = BPTT().gradient(of: model, on: batch)
        let ulps = 8 * Double.ulpOfOne   // a handful of roundings on O(1) numbers
        #expect(abs(g.loss - 0.5 * e * e) <= ulps)
        #expect(abs(g.gradients.wOut[0, 0] - e * a1) <= ulps)
        #expect(abs(g.gradients.bOut[0] - e) <= ulps)
        #expect(abs(g.gradients.wRec[0, 0] - e * v * alpha * h0) <= ulps)
        #expect(abs(g.gradients.wIn[0, 0] - e * v * alpha * x) <= ulps)
        #expect(abs(g.gradients.bRec[0] - e * v * alpha) <= ulps)
        #expect(abs(g.gradients.h0[0] - e * v * (1 - alpha + alpha * w)) <= ulps)
    }

    @Test("tbptt:K with K ≥ T equals BPTT (through the truncated code path) to rounding")
    func truncationBeyondHorizonIsExact() async {
        await propertyCheck(count: 60, input: smallNetworks, Gen.int(in: 0...5)) { c, extra in
            let exact = BPTT().gradient(of: c.model, on: c.batch)
            let truncated = TruncatedBPTT(truncation: c.steps + extra).gradient(of: c.model, on: c.batch)
            #expect(truncated.loss == exact.loss)
            for (name, path) in Parameters.tensors {
                let (a, b) = (truncated.gradients[keyPath: path], exact.gradients[keyPath: path])
                // Same terms summed in a different order: ≤ T·N terms, 1e-12 relative to the norm.
                #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, euclideanNorm(b)) }, "\(name)")
            }
        }
    }

    @Test("tbptt:K for K < T differs from BPTT when the recurrence matters, and the readout gradient never does")
    func truncationShortens() {
        let c = RandomNetworkCase(seed: 21, units: 8, inputs: 2, outputs: 2, steps: 15, trials: 3, alpha: 0.5, activation: .tanh, loss: .xent)
        let exact = BPTT().gradient(of: c.model, on: c.batch).gradients
        let t2 = TruncatedBPTT(truncation: 2).gradient(of: c.model, on: c.batch).gradients
        #expect((t2.wRec - exact.wRec).frobeniusNorm > 1e-3 * exact.wRec.frobeniusNorm)
        #expect(t2.wOut == exact.wOut && t2.bOut == exact.bOut)
    }
}
