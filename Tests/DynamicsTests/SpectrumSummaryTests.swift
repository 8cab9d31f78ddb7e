import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// The Kaplan–Yorke dimension and the entropy rate: closed forms first, then the Hénon map.
@Suite("Spectrum summary: Kaplan–Yorke dimension and Kolmogorov–Sinai entropy rate")
struct SpectrumSummaryTests {
    @Test("closed forms: partial sums, a fixed point, an expanding map, and what k does not cover")
    func closedForms() {
        let s = SpectrumSummary(exponents: [0.3, 0.1, -0.2, -0.5], dimension: 4)
        #expect(s.kaplanYorkeDimension == 3 + 0.2 / 0.5 && s.entropyRate == 0.4 && s.note == nil)
        // λ_1 < 0: a stable fixed point, dimension 0, no entropy.
        #expect(SpectrumSummary(exponents: [-0.1, -0.4], dimension: 10).kaplanYorkeDimension == 0)
        #expect(SpectrumSummary(exponents: [-0.1, -0.4], dimension: 10).entropyRate == 0)
        // Every partial sum ≥ 0 with the whole spectrum: the dimension is N.
        #expect(SpectrumSummary(exponents: [0.2, 0.1], dimension: 2).kaplanYorkeDimension == 2)
        // j + 1 within k though k < N: D = 1 + 0.5/0.8.
        let partial = SpectrumSummary(exponents: [0.5, -0.8], dimension: 50)
        #expect(partial.kaplanYorkeDimension == 1 + 0.5 / 0.8 && partial.entropyRate == 0.5)
        let short = SpectrumSummary(exponents: [0.5, 0.2], dimension: 50)
        #expect(short.kaplanYorkeDimension == nil && short.entropyRate == nil && short.note != nil)
    }

    /// Hénon (1.4, 0.3): λ = (0.4192, −1.6232) (the statistical tests pin both to ±0.002), so
    /// D_KY = 1 + λ_1/|λ_2| = 1.2583 (the published value is 1.258; Russell, Hanson & Ott 1980).
    /// Errors of ±0.002 in λ_1 and λ_2 move D by at most 0.002/1.62 + 0.42·0.002/1.62² ≈ 0.0016.
    @Test("Hénon (1.4, 0.3): D_KY = 1.258 ± 0.002 and entropy rate λ_1 from 200 000 steps")
    func henon() throws {
        let est = try Lyapunov.spectrum(of: HenonMap(), k: 2, options: LyapunovOptions(transient: 1000, steps: 200_000))
        let s = SpectrumSummary(exponents: est.exponents, dimension: 2)
        #expect(abs((s.kaplanYorkeDimension ?? .nan) - 1.2583) <= 0.002, "\(est.exponents)")
        #expect(s.entropyRate == est.exponents[0])
    }

    /// A published spectrum: the leading 256 exponents of a random tanh network map (g = 1.25,
    /// N = 16384) from davidclark1/rnn-lyapunov, with the repository's own entropy rate and
    /// Kaplan–Yorke dimension, both per unit (divided by N). The same sums in another order: 256
    /// terms, so 1e-12 relative is hundreds of ulps of margin.
    @Test("a published random-network spectrum: our entropy rate and Kaplan–Yorke dimension equal the publication's")
    func publishedSpectrum() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/published/clark-rnn-lyapunov-map-g1.25.json")
        let json = try JSONValue.parse(Data(contentsOf: url), source: url.path)
        guard case let .number(n)? = json["N"], case let .array(items)? = json["exponents"],
              case let .number(entropy)? = json["published_entropy_rate_per_unit"], case let .number(ky)? = json["published_ky_dimension_per_unit"] else {
            Issue.record("malformed fixture")
            return
        }
        let exponents = items.compactMap { if case let .number(x) = $0 { return x }; return nil }
        #expect(exponents.count == 256)
        let s = SpectrumSummary(exponents: exponents, dimension: Int(n))
        #expect(abs((s.entropyRate ?? .nan) / n - entropy) <= 1e-12 * entropy, "\(String(describing: s.entropyRate))")
        #expect(abs((s.kaplanYorkeDimension ?? .nan) / n - ky) <= 1e-12 * ky, "\(String(describing: s.kaplanYorkeDimension))")
    }
}
