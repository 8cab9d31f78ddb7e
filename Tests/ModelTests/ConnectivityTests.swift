import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("Initial connectivity families")
struct ConnectivityTests {
    func weights(_ c: Connectivity, n: Int, seed: UInt64 = 11) -> (Matrix, [Double]?) {
        var rng = RandomStream(seed: seed, purpose: .network)
        return c.recurrentWeights(units: n, using: &rng)
    }

    @Test("gaussian(g): entry mean 0 and variance g²/N within 5 standard errors; zero diagonal when asked")
    func gaussianStatistics() {
        let (n, g) = (300, 1.5)
        let (w, _) = weights(.gaussian(gain: g), n: n)
        let count = Double(n * n), sigma2 = g * g / Double(n)
        let mean = w.storage.reduce(0, +) / count
        let variance = w.storage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
        #expect(abs(mean) <= 5 * (sigma2 / count).squareRoot())                 // s.e. σ/√(N²)
        #expect(abs(variance - sigma2) <= 5 * sigma2 * (2 / count).squareRoot())  // s.e. σ²√(2/N²)
        let (z, _) = weights(.gaussian(gain: g, zeroDiagonal: true), n: 50)
        #expect(z.diagonal.allSatisfy { $0 == 0 })
    }

    @Test("gaussian(g): spectral radius (GSL eigenvalues) near g at N = 400 within the finite-N edge correction")
    func gaussianSpectralRadius() throws {
        // Ginibre edge (Rider 2003): ρ ≈ g(1 + √(γ_N/4N)) with γ_N = ln(N/2π) − 2 ln ln N ≈ 1.3 at
        // N = 400, i.e. +3%, with Gumbel fluctuations of width ≈ g/√(4Nγ_N) ≈ 0.02g. ±0.1g covers both.
        for g in [0.5, 2.0] {
            let (w, _) = weights(.gaussian(gain: g), n: 400)
            let radius = try GSL.eigenvalues(w).map(\.magnitude).max()!
            #expect(abs(radius - g) <= 0.1 * g, "g = \(g): ρ = \(radius)")
        }
    }

    @Test("orthogonal(g): WᵀW = g²I and every eigenvalue has modulus g")
    func orthogonal() throws {
        let g = 1.3
        let (w, _) = weights(.orthogonal(gain: g), n: 60)
        // Householder Q is orthonormal to O(n·u); 1e-13 allows ~500 u per entry.
        #expect((Matrix.product(.transposed, w, .none, w) - (g * g) * Matrix.identity(60)).maxAbs <= 1e-13)
        for e in try GSL.eigenvalues(w) { #expect(abs(e.magnitude - g) <= 1e-12) }
    }

    @Test("sparse(g, p): density p within 5 s.e.; nonzero entries have variance g²/(pN) within 5 s.e.")
    func sparse() {
        let (n, g, p) = (300, 2.0, 0.1)
        let (w, _) = weights(.sparse(gain: g, density: p), n: n)
        let nonzero = w.storage.filter { $0 != 0 }
        let count = Double(n * n)
        #expect(abs(Double(nonzero.count) / count - p) <= 5 * (p * (1 - p) / count).squareRoot())
        let sigma2 = g * g / (p * Double(n))
        let variance = nonzero.reduce(0) { $0 + $1 * $1 } / Double(nonzero.count)
        #expect(abs(variance - sigma2) <= 5 * sigma2 * (2 / Double(nonzero.count)).squareRoot())
    }

    @Test("dale(g, 0.8): column signs, exact row balance, spectral radius g (GSL)")
    func dale() throws {
        let (n, g) = (100, 1.5)
        let (w, signs) = weights(.dale(gain: g), n: n)
        let s = try #require(signs)
        #expect(s.filter { $0 > 0 }.count == 80)
        for i in 0..<n {
            for j in 0..<n { #expect(w[i, j] * s[j] >= 0) }
            // Row sums are zero up to the rounding of n terms of size ≤ max|w|.
            #expect(abs(w.row(i).reduce(0, +)) <= Double(n) * Double.ulpOfOne * w.maxAbs * 4)
        }
        let radius = try GSL.eigenvalues(w).map(\.magnitude).max()!
        #expect(abs(radius - g) <= 1e-10 * g)   // scaled with LAPACK's radius; GSL agrees to rounding
    }

    @Test("a network from a seed is the same network; another seed gives another")
    func determinism() {
        func net(_ seed: UInt64) -> RNN { .initial(units: 20, inputs: 3, outputs: 2, alpha: 0.2, activation: .tanh, connectivity: .gaussian(gain: 1), seed: seed) }
        #expect(net(4) == net(4))
        #expect(net(4).parameters.wRec != net(5).parameters.wRec)
        // W_in ~ N(0, 1/I), W_out ~ N(0, 1/N): spot-check the scale on a large draw.
        let big = RNN.initial(units: 400, inputs: 50, outputs: 50, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 1), seed: 1)
        let vIn = big.parameters.wIn.storage.reduce(0) { $0 + $1 * $1 } / 20_000
        let vOut = big.parameters.wOut.storage.reduce(0) { $0 + $1 * $1 } / 20_000
        #expect(abs(vIn - 1.0 / 50) <= 5 * (1.0 / 50) * (2.0 / 20_000).squareRoot())
        #expect(abs(vOut - 1.0 / 400) <= 5 * (1.0 / 400) * (2.0 / 20_000).squareRoot())
    }
}
