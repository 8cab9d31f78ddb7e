import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// The statistics of the study's report: the incomplete beta function and Student's t against GSL,
/// and the confidence interval and Holm adjustment against values computed by hand.
@Suite("Statistics: Student's t, confidence intervals, Holm")
struct StatisticsTests {
    /// Error budget: I_x(a, b) multiplies exp(log-prefactor) by the continued fraction. lgamma and log
    /// are accurate to a few ulps of their values, so the prefactor's logarithm (|·| ≤ 60 on this
    /// grid) carries an absolute error of about 60·2⁻⁵² ≈ 1.3e-14, and exp turns it into that much
    /// relative error; the fraction converges to 1e-16 per factor. GSL's own error is of the same
    /// order, so 1e-12 relative leaves a margin of about 50.
    @Test("I_x(a, b) equals GSL's gsl_sf_beta_inc to 1e-12 relative")
    func incompleteBeta() {
        for a in [0.5, 1, 2.5, 10, 50.0] {
            for b in [0.5, 1, 3, 20.0] {
                for x in [1e-4, 0.01, 0.2, 0.5, 0.8, 0.99] {
                    let (ours, gsl) = (regularizedIncompleteBeta(a, b, x), GSL.incompleteBeta(a, b, x))
                    #expect(abs(ours - gsl) <= 1e-12 * max(gsl, 1e-300), "I_\(x)(\(a), \(b)): \(ours) against \(gsl)")
                }
            }
        }
        #expect(regularizedIncompleteBeta(2, 3, 0) == 0 && regularizedIncompleteBeta(2, 3, 1) == 1)
    }

    /// Same budget as the incomplete beta (the cdf is ½·I or 1 − ½·I); the quantile is bisected to
    /// 1e-13 relative, and the cdf's slope near the 97.5% point is ≥ 0.005 for ν ≥ 1.
    @Test("Student's t: cdf and quantile equal GSL's, and the tabled 97.5% points")
    func studentT() {
        for nu in [1, 2, 4, 9, 30, 200.0] {
            for t in [-8, -2, -0.5, 0, 0.3, 1, 2.5, 10.0] {
                let (ours, gsl) = (StudentT.cdf(t, degreesOfFreedom: nu), GSL.studentTCDF(t, nu))
                #expect(abs(ours - gsl) <= 1e-12 * gsl, "ν = \(nu), t = \(t): \(ours) against \(gsl)")
            }
            for p in [0.6, 0.9, 0.975, 0.995] {
                let (ours, gsl) = (StudentT.quantile(p, degreesOfFreedom: nu), GSL.studentTQuantile(p, nu))
                #expect(abs(ours - gsl) <= 1e-10 * gsl, "ν = \(nu), p = \(p): \(ours) against \(gsl)")
            }
        }
        // Tables (e.g. Abramowitz & Stegun 26.10): t_{0.975} for ν = 1, 4, 9 to the tables' 9 digits.
        for (nu, tabled) in [(1.0, 12.7062047), (4, 2.77644511), (9, 2.26215716)] {
            #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: nu) - tabled) <= 1e-7 * tabled)
        }
        #expect(StudentT.quantile(0.025, degreesOfFreedom: 4) == -StudentT.quantile(0.975, degreesOfFreedom: 4))
    }

    @Test("the paired comparison of 1, 2, 3, 4, 5: mean 3, 95% CI 3 ± 2.7764451·√0.5, d_z = 3/√2.5, p from t = 3/√0.5")
    func pairedComparison() {
        let c = PairedComparison(differences: [1, 2, 3, 4, 5])
        // By hand: s = √2.5 = 1.58113883, s/√5 = √0.5 = 0.70710678, t_{0.975,4} = 2.77644511.
        let half = 2.77644511 * 0.5.squareRoot()
        #expect(c.n == 5 && c.mean == 3)
        #expect(abs(c.lower - (3 - half)) <= 1e-8 && abs(c.upper - (3 + half)) <= 1e-8, "\(c)")
        #expect(abs(c.effectSize - 3 / 2.5.squareRoot()) <= 1e-15)
        // t = 4.24264069 with 4 degrees of freedom: p = 2·(1 − F(t)) = 0.0132356 (GSL).
        #expect(abs(c.p - 2 * (1 - GSL.studentTCDF(3 / 0.5.squareRoot(), 4))) <= 1e-12)
        #expect(abs(c.p - 0.0132356) <= 1e-6)
        let flat = PairedComparison(differences: [2, 2, 2])
        #expect(flat.mean == 2 && flat.p.isNaN && flat.lower.isNaN)
        #expect(PairedComparison(differences: [1]).p.isNaN)
    }

    @Test("Holm: p = 0.01, 0.04, 0.03, 0.005 become 0.03, 0.06, 0.06, 0.02 (by hand); capped at 1; NaN kept out of m")
    func holm() {
        // Sorted: 0.005·4 = 0.02; 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06.
        let adjusted = holmAdjusted([0.01, 0.04, 0.03, 0.005])
        for (a, b) in zip(adjusted, [0.03, 0.06, 0.06, 0.02]) { #expect(abs(a - b) <= 1e-17, "\(adjusted)") }
        #expect(holmAdjusted([0.5, 0.6]) == [1, 1])
        let withNaN = holmAdjusted([0.02, .nan, 0.01])      // m = 2: 0.01·2 = 0.02, 0.02·1 → 0.02
        #expect(withNaN[0] == 0.02 && withNaN[1].isNaN && withNaN[2] == 0.02)
        #expect(holmAdjusted([]) == [])
    }
}
