import BioRNN
import BioRNNConformance
import BioRNNTesting
import Foundation
import PropertyBased
import Testing

let networkCases = zip(
    Gen<UInt64>.value(), Gen.int(in: 1...12), Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.int(in: 1...20),
    Gen.int(in: 1...4), Gen.double(in: 0.05...1), Gen<Activation>.case, Gen<LossKind>.case
).map { RandomNetworkCase(seed: $0, units: $1, inputs: $2, outputs: $3, steps: $4, trials: $5, alpha: $6, activation: $7, loss: $8) }

@Suite("Forward pass")
struct ForwardTests {
    @Test("batched forward pass equals the one-trial-at-a-time reference within rounding")
    func matchesReference() async {
        // Each step sums N + I + 1 terms; errors compound through ≤ 20 steps with |J| = O(1).
        // Absolute 1e-12 on outputs of size O(1) is ~5000 u: ample for rounding, far below any bug.
        await propertyCheck(count: 100, input: networkCases) { c in
            let (model, batch) = (c.model, c.batch)
            let tr = model.run(batch)
            for b in 0..<batch.trials {
                let ref = ReferenceRNN.outputs(model, batch, trial: b)
                let refStates = ReferenceRNN.states(model, batch, trial: b)
                for t in 1...batch.steps {
                    let y = tr.output(t, trial: b)
                    for k in 0..<y.count { #expect(abs(y[k] - ref[t - 1][k]) <= 1e-12 * max(1, abs(ref[t - 1][k]))) }
                    let a = tr.state(t, trial: b)
                    for j in 0..<a.count { #expect(abs(a[j] - refStates[t][j]) <= 1e-12 * max(1, abs(refStates[t][j]))) }
                }
            }
            #expect(abs(lossAndOutputGradient(tr, batch).loss - ReferenceRNN.loss(model, batch)) <= 1e-12 * max(1, ReferenceRNN.loss(model, batch)))
        }
    }

    @Test("closed form: with W_rec = 0, linear φ and constant input, a_t = c + (1−α)^t (h0 − c), c = W_in x + b")
    func leakyIntegratorClosedForm() {
        let alpha = 0.3
        let p = Parameters(wIn: Matrix([[2.0], [-1.0]]), wRec: Matrix(rows: 2, cols: 2), wOut: Matrix([[1.0, 1.0]]),
                           bRec: [0.5, 0.25], bOut: [0], h0: [1, -1])
        let model = RNN(alpha: alpha, activation: .linear, parameters: p)
        let T = 30
        let batch = Batch(steps: T, trials: 1, inputSize: 1, inputs: Array(repeating: 0.7, count: T),
                          targets: Array(repeating: 0, count: T), targetSize: 1)
        let tr = model.run(batch)
        let c = [2 * 0.7 + 0.5, -0.7 + 0.25]
        for t in 0...T {
            for j in 0..<2 {
                let exact = c[j] + pow(1 - alpha, Double(t)) * (p.h0[j] - c[j])
                // The recursion rounds once or twice per step: t·4u relative to the O(1) values.
                #expect(abs(tr.state(t, trial: 0)[j] - exact) <= Double(t + 1) * 4 * Double.ulpOfOne * 4)
            }
        }
    }

    @Test("private noise: off by default; with σ > 0 it is reproducible from its seed and changes the states")
    func privateNoise() {
        let c = RandomNetworkCase(seed: 5, units: 6, inputs: 2, outputs: 1, steps: 10, trials: 3, alpha: 0.5, activation: .tanh, loss: .mse)
        var model = c.model
        let quiet = model.run(c.batch)
        model.noiseSD = 0.1
        let noisy1 = model.run(c.batch, noiseSeed: 9), noisy2 = model.run(c.batch, noiseSeed: 9), other = model.run(c.batch, noiseSeed: 10)
        #expect(noisy1.a == noisy2.a)
        #expect(noisy1.a != quiet.a && noisy1.a != other.a)
        // a_1 − a_1(quiet) = √α·σ·ξ exactly (first step: no nonlinearity acts on the noise yet).
        let diff = zip(noisy1.state(1, trial: 0), quiet.state(1, trial: 0)).map { $0 - $1 }
        var rng = RandomStream(seed: 9, purpose: .noise)
        let xi = (0..<6).map { _ in rng.normal() }
        for j in 0..<6 { #expect(abs(diff[j] - 0.5.squareRoot() * 0.1 * xi[j]) <= 1e-15) }
    }

    @Test("activations: derivatives equal GSL central differences away from the kinks")
    func activationDerivatives() throws {
        for phi in Activation.allCases {
            for x in [-2.3, -0.4, 0.35, 1.7] {
                let d1 = try GSL.derivative(at: x, step: 1e-3) { phi($0) }
                let d2 = try GSL.derivative(at: x, step: 1e-3) { phi.derivative($0) }
                // GSL's error estimate plus 1e-10 for the rounding of φ itself.
                #expect(abs(phi.derivative(x) - d1.value) <= 4 * d1.error + 1e-10, "\(phi) φ' at \(x)")
                #expect(abs(phi.secondDerivative(x) - d2.value) <= 4 * d2.error + 1e-10, "\(phi) φ'' at \(x)")
            }
        }
        #expect(Activation.softplus(800) == 800 && Activation.softplus(-800) >= 0)
    }

    @Test("BioRNN's tanh is within 5 ulp of glibc's over 10⁶ values in every range, exact at the special values")
    func tanhAccuracy() {
        // Error budget. glibc's tanh is within 1 ulp of the true value. Ours: expm1(r) = r·q with
        // q by Horner carries ≈ 1 rounding of relative 2⁻⁵³ (r itself is exact when k = 0, and
        // its error is absorbed by 2^k − 1 otherwise); u = 2^k·expm1(r) + (2^k − 1) adds one
        // rounding and at most amplifies expm1(r)'s error 1.4× (k = 1, r = −ln2/2, the worst
        // cancellation); u/(u + 2) adds two and damps u's error by 2/(u + 2) ≤ 1. That is
        // ≈ 3.5·2⁻⁵³ relative, up to ≈ 4 ulp when tanh|x| sits just below a power of two (e.g.
        // 0.2037, measured 4.0). So ≤ 5 ulp of glibc's. A wrong coefficient or branch costs
        // ≥ 10³ ulp, far outside.
        var rng = RandomStream(seed: 5, name: "tanh-accuracy")
        var worst = 0.0, worstAt = 0.0
        let ranges: [(Double, Double)] = [(-1, 1), (-0.7, 0.7), (0.6, 0.65), (-25, 25), (-3, 3), (18, 23)]
        for i in 0..<1_000_000 {
            var x: Double
            if i % 7 == 6 {
                x = (rng.uniform() < 0.5 ? -1 : 1) * exp(rng.uniform(-700, -2))   // tiny, both signs
            } else {
                let (a, b) = ranges[i % 7 % ranges.count]
                x = rng.uniform(a, b)
            }
            let reference = Foundation.tanh(x)
            let ulps = abs(Activation.hyperbolicTangent(x) - reference) / reference.ulp
            if ulps > worst { (worst, worstAt) = (ulps, x) }
        }
        print("tanh: worst difference from glibc \(worst) ulp at x = \(worstAt)")
        #expect(worst <= 5, "\(worst) ulp at \(worstAt)")
        #expect(Activation.hyperbolicTangent(0).bitPattern == 0.0.bitPattern && Activation.hyperbolicTangent(-0.0).bitPattern == (-0.0).bitPattern)
        #expect(Activation.hyperbolicTangent(.infinity) == 1 && Activation.hyperbolicTangent(-.infinity) == -1 && Activation.hyperbolicTangent(40) == 1)
        #expect(Activation.hyperbolicTangent(.nan).isNaN && Activation.hyperbolicTangent(-Double.leastNonzeroMagnitude) == -Double.leastNonzeroMagnitude)
        // The bulk form (CKernels' vectorised loop, a different machine code) is the scalar one,
        // bit for bit: special values, every range, random bit patterns, an odd count.
        let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 0.3465735902799726, 44, 1e300]
        let xs = specials + (0..<100_001).map { i -> Double in
            switch i % 3 {
            case 0: return rng.uniform(-25, 25)
            case 1: return (rng.uniform() < 0.5 ? -1 : 1) * exp(rng.uniform(-745, 4))
            default: return Double(bitPattern: rng.next())
            }
        }
        var ys = [Double](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { y in Activation.tanh.apply(x.baseAddress!, to: y.baseAddress!, count: xs.count) } }
        let differing = zip(xs, ys).filter { x, y in y.bitPattern != Activation.hyperbolicTangent(x).bitPattern }
        #expect(differing.isEmpty, "\(differing.count) values differ, first at x = \(differing.first?.0 ?? 0)")
    }
}
