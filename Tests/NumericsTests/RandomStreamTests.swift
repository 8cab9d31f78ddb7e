import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("Seeded random streams")
struct RandomStreamTests {
    struct Golden: Decodable {
        struct Case: Decodable { let seed: String; let first_draws: [String] }
        let cases: [Case]
    }

    @Test("xoshiro256** draws equal an independent implementation bit for bit (fixtures/rng)")
    func goldenDraws() throws {
        let data = try Data(contentsOf: Fixtures.url("rng/xoshiro256starstar.json"))
        let golden = try JSONDecoder().decode(Golden.self, from: data)
        #expect(golden.cases.count == 4)
        for c in golden.cases {
            var rng = RandomStream(seed: UInt64(c.seed)!)
            #expect((0..<c.first_draws.count).map { _ in rng.next() } == c.first_draws.map { UInt64($0)! })
        }
    }

    @Test("same seed and purpose give identical streams; different purposes or seeds do not")
    func streamsAreReproducibleAndDistinct() {
        func draws(_ rng: RandomStream) -> [UInt64] { var r = rng; return (0..<64).map { _ in r.next() } }
        for purpose in StreamPurpose.allCases {
            #expect(draws(RandomStream(seed: 12, purpose: purpose)) == draws(RandomStream(seed: 12, purpose: purpose)))
        }
        let all = StreamPurpose.allCases.map { draws(RandomStream(seed: 12, purpose: $0)) }
        #expect(Set(all.map { $0 }).count == all.count)
        #expect(draws(RandomStream(seed: 12, purpose: .network)) != draws(RandomStream(seed: 13, purpose: .network)))
        #expect(draws(RandomStream(seed: 12, purpose: .network)) != draws(RandomStream(seed: 12)))
        // No two purposes share even a first draw (a shifted copy of one stream would).
        let firsts = all.flatMap { $0 }
        #expect(Set(firsts).count == firsts.count)
    }

    @Test("normal draws: mean and variance within 5 standard errors of (0, 1) over 10⁶ draws")
    func normalMoments() {
        let n = 1_000_000
        var rng = RandomStream(seed: 2024, purpose: .noise)
        var sum = 0.0, sumSq = 0.0, sum4 = 0.0
        for _ in 0..<n { let z = rng.normal(); sum += z; sumSq += z * z; sum4 += z * z * z * z }
        let mean = sum / Double(n)
        let variance = sumSq / Double(n) - mean * mean
        // s.e. of the mean: σ/√n = 1e-3. s.e. of the variance of a normal sample: σ²·√(2/n) ≈ 1.41e-3.
        #expect(abs(mean) <= 5 / Double(n).squareRoot())
        #expect(abs(variance - 1) <= 5 * (2 / Double(n)).squareRoot())
        // Fourth moment 3, s.e. √((105 − 9)/n) ≈ 9.8e-3: catches a wrong shape with the right variance.
        #expect(abs(sum4 / Double(n) - 3) <= 5 * (96 / Double(n)).squareRoot())
    }

    @Test("uniform draws lie in [0, 1) with mean ½ within 5 s.e.; index(below:) is in range and unbiased")
    func uniformAndIndex() {
        let n = 1_000_000
        var rng = RandomStream(seed: 99)
        var sum = 0.0
        for _ in 0..<n { let u = rng.uniform(); #expect(u >= 0 && u < 1); sum += u }
        #expect(abs(sum / Double(n) - 0.5) <= 5 * (1.0 / 12 / Double(n)).squareRoot())
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[rng.index(below: 7)] += 1 }
        // Each count is Binomial(70000, 1/7): mean 10000, s.d. ≈ 92.6.
        for c in counts { #expect(abs(c - 10_000) <= 5 * 93) }
    }
}
