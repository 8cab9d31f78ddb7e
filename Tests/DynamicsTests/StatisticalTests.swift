import BioRNN
import BioRNNTesting
import Foundation
import Testing

let extensive = ProcessInfo.processInfo.environment["BIORNN_EXTENSIVE"] == "1"

@Suite("Lyapunov analysis: classic systems, mean-field theory, invariances")
struct StatisticalTests {
    @Test("Hénon (1.4, 0.3): λ = (0.4192, −1.6232) within ±0.002; λ₁ + λ₂ = ln 0.3 to 1e-10")
    func henon() throws {
        // s.e. of λ₁ over 10⁶ steps is ≈ 3e-4 (measured from blocks); ±0.002 is > 5 s.e.
        let est = try Lyapunov.spectrum(of: HenonMap(), k: 2, options: LyapunovOptions(transient: 1000, steps: 1_000_000))
        print("Hénon: λ = \(est.exponents) ± \(est.standardErrors)")
        #expect(abs(est.exponents[0] - 0.4192) <= 0.002, "\(est.exponents), s.e. \(est.standardErrors)")
        #expect(abs(est.exponents[1] + 1.6232) <= 0.002)
        #expect(abs(est.exponents.reduce(0, +) - log(0.3)) <= 1e-10 * abs(log(0.3)))   // det J = −b at every step
        #expect(est.standardErrors[0] < 0.0005)
    }

    @Test("logistic map r = 4: λ = ln 2 within 1e-3")
    func logistic() throws {
        let est = try Lyapunov.spectrum(of: LogisticMap(), k: 1, options: LyapunovOptions(transient: 100, steps: 1_000_000))
        print("logistic r = 4: λ = \(est.exponents[0]) ± \(est.standardErrors[0]) (ln 2 = \(log(2.0)))")
        #expect(abs(est.exponents[0] - log(2)) <= 1e-3, "\(est.exponents[0]) ± \(est.standardErrors[0])")
    }

    @Test("Lorenz (10, 28, 8/3) through GSL rk8pd with variational equations: Σλ = −41/3 to 1e-6; λ₁ and λ₃ near (0.9056, −14.5723), |λ₂| small")
    func lorenz() throws {
        // Default: 200 time units (λ₁ s.e. ≈ 0.02): λ₁, λ₃ within ±0.1 and |λ₂| < 0.05. Extensive: 2000
        // time units, ±0.02 and |λ₂| < 0.01 as published (Sprott's values).
        let dt = 0.01
        let units = extensive ? 2000.0 : 200.0
        let est = try Lyapunov.spectrum(of: LorenzFlowMap(dt: dt), k: 3, options: LyapunovOptions(transient: 1000, steps: Int(units / dt), qrEvery: 10))
        let perTime = est.exponents.map { $0 / dt }
        print("Lorenz over \(units) time units: λ = \(perTime), Σ = \(perTime.reduce(0, +))")
        let (tol1, tol2) = extensive ? (0.02, 0.01) : (0.1, 0.05)
        #expect(abs(perTime[0] - 0.9056) <= tol1, "\(perTime)")
        #expect(abs(perTime[1]) < tol2, "\(perTime)")
        #expect(abs(perTime[2] + 14.5723) <= tol1, "\(perTime)")
        // Liouville: log det M(Δt) = tr Df·Δt exactly; the integrator's relative error is ~1e-11 per step.
        let sum: Double = perTime.reduce(0, +), liouville: Double = -41.0 / 3
        #expect(abs(sum - liouville) <= 1e-6 * abs(liouville))
    }

    @Test("mean-field theory (α = 1, tanh, autonomous): λ_max of N = 300 networks within ±0.05 of ½ln(g²⟨φ'²⟩)",
          arguments: [1.5, 2.0, 3.0])
    func meanField(gain g: Double) throws {
        let theory = try MeanFieldTheory.maximalExponent(gain: g)
        // The published values for these gains: a check on the quadrature and the fixed point.
        let published = [1.5: 0.0652, 2.0: 0.1547, 3.0: 0.3103][g]!
        #expect(abs(theory - published) <= 5e-4, "theory \(theory)")
        // Finite N: corrections O(1/√N) ≈ 0.06·(constant < 1) at N = 300, plus the estimate's s.e.
        // (≈ 0.005 over 4000 steps) — ±0.05 as the issue states; N = 1000 within ±0.03 (extensive).
        let n = extensive ? 1000 : 300
        let tol = extensive ? 0.03 : 0.05
        var estimates: [Double] = []
        for seed in UInt64(1)...2 {
            let model = RNN.initial(units: n, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: g), seed: seed)
            estimates.append(try Lyapunov.maximalExponent(of: RNNMap(model), options: LyapunovOptions(transient: 500, steps: 4000)).exponents[0])
        }
        let mean = estimates.reduce(0, +) / Double(estimates.count)
        print("mean field g = \(g): theory \(theory), N = \(n) estimates \(estimates)")
        #expect(abs(mean - theory) <= tol, "N = \(n): \(estimates) vs theory \(theory)")
    }

    @Test("for g < 1 (ordered), λ_max → ln g")
    func orderedRegime() throws {
        // Autonomous tanh networks settle on the origin, where λ_max = log ρ((1−α)I + αW) = log ρ(W)
        // at α = 1; ρ(W) ≈ g(1 + √(γ_N/4N)) at finite N (≈ +3% at N = 300), so ±0.05.
        for g in [0.5, 0.8] {
            let model = RNN.initial(units: 300, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: g), seed: 3)
            let est = try Lyapunov.maximalExponent(of: RNNMap(model), options: LyapunovOptions(transient: 1000, steps: 2000))
            #expect(abs(est.exponents[0] - log(g)) <= 0.05, "g = \(g): \(est.exponents[0])")
            #expect(try MeanFieldTheory.maximalExponent(gain: g) == log(g))
        }
    }

    @Test("the three λ_max estimators (QR, single tangent vector, twin trajectory) agree within their standard errors on a chaotic network")
    func estimatorsAgree() throws {
        let model = RNN.initial(units: 150, inputs: 1, outputs: 1, alpha: 0.5, activation: .tanh, connectivity: .gaussian(gain: 2.5), seed: 9)
        var options = LyapunovOptions(transient: 500, steps: 6000)
        let qr = try Lyapunov.spectrum(of: RNNMap(model), k: 3, options: options)
        options.orthonormalSeed = 2
        let tangent = try Lyapunov.maximalExponent(of: RNNMap(model), options: options)
        options.initialConditionSeed = 3
        let twin = try Lyapunov.twinExponent(of: RNNMap(model), options: options)
        // 4 combined standard errors: the estimates share no randomness beyond the network (twin
        // also starts elsewhere); the twin's O(ε = 1e-8) nonlinear bias is negligible.
        func close(_ a: LyapunovResult, _ b: LyapunovResult) -> Bool {
            abs(a.exponents[0] - b.exponents[0]) <= 4 * (a.standardErrors[0] * a.standardErrors[0] + b.standardErrors[0] * b.standardErrors[0]).squareRoot()
        }
        print("λ_max: QR \(qr.exponents[0]) ± \(qr.standardErrors[0]), tangent \(tangent.exponents[0]) ± \(tangent.standardErrors[0]), twin \(twin.exponents[0]) ± \(twin.standardErrors[0])")
        #expect(qr.exponents[0] > 0.02, "the network should be chaotic: \(qr.exponents)")
        #expect(close(qr, tangent), "QR \(qr.exponents[0]) ± \(qr.standardErrors[0]), tangent \(tangent.exponents[0]) ± \(tangent.standardErrors[0])")
        #expect(close(qr, twin), "QR \(qr.exponents[0]) ± \(qr.standardErrors[0]), twin \(twin.exponents[0]) ± \(twin.standardErrors[0])")
    }

    @Test("invariance: the exponents do not depend on the re-orthonormalisation interval q, nor (for long runs) on the orthonormal seed")
    func invariances() throws {
        let model = RNN.initial(units: 100, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 2), seed: 5)
        var base = LyapunovOptions(transient: 300, steps: 3000)
        let q1 = try Lyapunov.spectrum(of: RNNMap(model), k: 8, options: base)
        for q in [5, 20] {
            base.qrEvery = q
            let other = try Lyapunov.spectrum(of: RNNMap(model), k: 8, options: base)
            // QR of a product equals the product of the QRs (diag R > 0), so q changes only rounding,
            // far inside the statistical error asked for here.
            for i in 0..<8 { #expect(abs(other.exponents[i] - q1.exponents[i]) <= q1.standardErrors[i], "q = \(q), i = \(i)") }
        }
        base.qrEvery = 1
        base.orthonormalSeed = 77
        let reseeded = try Lyapunov.spectrum(of: RNNMap(model), k: 8, options: base)
        // Different Q_0: the estimates differ by O(1/T) while Q aligns, then not at all; 3 s.e. + 5/T.
        for i in 0..<8 {
            #expect(abs(reseeded.exponents[i] - q1.exponents[i]) <= 3 * q1.standardErrors[i] + 5.0 / 3000, "i = \(i)")
        }
    }

    @Test("input-driven analysis uses the batch's first trial, repeated; exponents sorted descending; bad options name the field")
    func drivenAndValidation() throws {
        let task = PerceptualDecisionMaking()
        var rng = RandomStream(seed: 1, purpose: .data)
        let batch = task.sample(trials: 4, using: &rng)
        let model = RNN.initial(units: 30, inputs: 3, outputs: 3, alpha: 0.2, activation: .tanh, connectivity: .gaussian(gain: 1.5), seed: 2)
        let driven = try Lyapunov.spectrum(of: RNNMap(model, drivenBy: batch), k: 5, options: LyapunovOptions(transient: 100, steps: 700))
        let autonomous = try Lyapunov.spectrum(of: RNNMap(model), k: 5, options: LyapunovOptions(transient: 100, steps: 700))
        #expect(driven.exponents != autonomous.exponents)
        #expect(driven.exponents == driven.exponents.sorted(by: >))
        #expect(throws: InputError("k: must lie in 1…30 (the number of units), got 31")) {
            try Lyapunov.spectrum(of: RNNMap(model), k: 31)
        }
        #expect(throws: InputError("steps: must lie in 1…100000000, got 0")) { try Lyapunov.maximalExponent(of: RNNMap(model), options: LyapunovOptions(steps: 0)) }
    }
}
