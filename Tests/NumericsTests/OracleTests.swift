import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// The oracle itself, on closed forms: an oracle nobody checked is only a second opinion.
@Suite("GSL oracle on closed forms")
struct OracleTests {
    @Test("the oracle's dgemm runs GSL's CBLAS, production's runs OpenBLAS: they are independent")
    func independence() {
        // Production calls `dgemm_` through the dynamic linker's global lookup, which is what
        // dlsym(RTLD_DEFAULT) returns.
        let production = GSL.sharedObject(containing: UnsafeRawPointer(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "dgemm_")!))
        #expect(production.contains("openblas"), "production dgemm lives in \(production)")
        #expect(GSL.dgemmLibrary.contains("libgslcblas"), "oracle dgemm lives in \(GSL.dgemmLibrary)")
    }

    @Test("gemm oracle: a 2×3 by 3×2 product by hand")
    func gemmByHand() {
        let a = Matrix([[1.0, 2, 3], [4, 5, 6]]), b = Matrix([[7.0, 8], [9, 10], [11, 12]])
        #expect(GSL.gemm(.none, a, .none, b) == Matrix([[58.0, 64], [139, 154]]))
        #expect(GSL.gemm(.transposed, b, .transposed, a) == Matrix([[58.0, 139], [64, 154]]))
    }

    @Test("eigenvalues: a scaled rotation has r·e^{±iθ}; a triangular matrix its diagonal")
    func eigenvalues() throws {
        let (r, theta) = (1.7, 0.4)
        let rot = Matrix([[r * cos(theta), -r * sin(theta)], [r * sin(theta), r * cos(theta)]])
        let ev = try GSL.eigenvalues(rot)
        // Francis QR on a 2×2 block: a few roundings of entries of size r.
        for e in ev { #expect(abs(e.magnitude - r) <= 16 * r * Double.ulpOfOne); #expect(abs(abs(e.im) - r * sin(theta)) <= 16 * r * Double.ulpOfOne) }
        let tri = Matrix([[2.0, 5, -1], [0, -3, 4], [0, 0, 0.5]])
        let diag = try GSL.eigenvalues(tri).map(\.re).sorted()
        #expect(zip(diag, [-3.0, 0.5, 2]).allSatisfy { abs($0 - $1) <= 16 * 5 * Double.ulpOfOne })
    }

    @Test("QR and LU oracles: R of a diagonal matrix, log|det| of a permuted diagonal")
    func qrAndLU() throws {
        let (q, rr) = try GSL.qr(Matrix.diagonal([3, -2]))
        #expect(rr.diagonal.map(abs) == [3, 2])
        #expect((q * rr - Matrix.diagonal([3, -2])).maxAbs <= 4 * Double.ulpOfOne * 3)
        let p = Matrix([[0.0, 0, 4], [2, 0, 0], [0, 0.25, 0]])
        #expect(abs(try GSL.logAbsDeterminant(p) - log(2.0)) <= 4 * Double.ulpOfOne)
    }

    @Test("central differences: d/dx sin at 0.7 is cos 0.7 within GSL's own error estimate")
    func derivative() throws {
        let d = try GSL.derivative(at: 0.7, step: 1e-3) { sin($0) }
        #expect(abs(d.value - cos(0.7)) <= max(d.error, 1e-12))
        #expect(d.error < 1e-9)
    }

    @Test("qagi: ∫ exp(−x²/2) dx over ℝ is √(2π)")
    func integration() throws {
        let i = try GSL.integrateOverRealLine { exp(-$0 * $0 / 2) }
        #expect(abs(i.value - (2 * Double.pi).squareRoot()) <= 1e-11)
    }

    @Test("rk8pd: the harmonic oscillator returns to cos t, −sin t at t = 10 within 1e-9")
    func odeHarmonicOscillator() throws {
        let ode = GSLODEIntegrator(dimension: 2, epsAbs: 1e-13, epsRel: 1e-13) { _, y, dydt in
            dydt[0] = y[1]; dydt[1] = -y[0]
        }
        var y = [1.0, 0.0], t = 0.0
        try ode.advance(&y, time: &t, to: 10)
        #expect(t == 10)
        // Requested local tolerance 1e-13 over ~10³ steps: global error ≲ 1e-10, checked at 1e-9.
        #expect(abs(y[0] - cos(10.0)) <= 1e-9 && abs(y[1] + sin(10.0)) <= 1e-9)
    }

    @Test("GSL errors come back as thrown errors, not aborts")
    func errorsAreThrown() {
        #expect(throws: GSLError.self) { try GSL.integrateOverRealLine(epsAbs: 0, epsRel: 0) { _ in 1 } }
    }
}
