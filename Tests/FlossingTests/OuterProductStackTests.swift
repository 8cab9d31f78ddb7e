@testable import BioRNN
import BioRNNTesting
import Testing

/// The stacked outer products of a flossing window, added on a helper thread while the caller
/// fills the other pair of stacks: the sum must have the bits of the same products added one
/// after the other on one thread. Here the caller only copies rows, so it outruns the helper's
/// products and would overwrite a pair still being read if the stack did not wait for it.
@Suite("OuterProductStack: a helper thread changes no bits", .serialized)
struct OuterProductStackTests {
    @Test("Σ a_r·b_rᵀ over 40 fills of 512 rows: the same bits on one thread and with the helper, within 2·γ_{rows+2}·Σ|a_r||b_r|ᵀ of GSL")
    func helperChangesNoBits() throws {
        let width = 96, rowsPerStep = 64, steps = 320   // 20480 rows: 40 full pairs of 512
        var rng = RandomStream(seed: 19)
        let a = Matrix.randomNormal(rows: steps * rowsPerStep, cols: width, sd: 1, using: &rng)
        let b = Matrix.randomNormal(rows: steps * rowsPerStep, cols: width, sd: 1, using: &rng)
        func stacked(threads: Int) -> Matrix {
            let saved = BLAS.threadCount
            BLAS.threadCount = threads
            defer { BLAS.threadCount = saved }
            let stack = OuterProductStack(width: width, rowsPerStep: rowsPerStep)
            for step in 0..<steps {
                let (left, right) = stack.next(rows: rowsPerStep)
                let first = step * rowsPerStep * width
                for idx in 0..<(rowsPerStep * width) {
                    left[idx] = a.storage[first + idx]
                    right[idx] = b.storage[first + idx]
                }
            }
            var sum = Matrix(rows: width, cols: width)
            stack.add(into: &sum)
            return sum
        }
        let alone = stacked(threads: 1), helped = stacked(threads: 2)
        let differing = (0..<(width * width)).filter { alone.storage[$0].bitPattern != helped.storage[$0].bitPattern }
        #expect(differing.isEmpty, "\(differing.count) of \(width * width) entries differ with the helper thread")
        let oracle = GSL.gemm(.transposed, a, .none, b)
        let budget = ErrorBudget.gemm(.transposed, a, .none, b, c0: nil, alpha: 1, beta: 0)
        let outside = (0..<(width * width)).filter { abs(alone.storage[$0] - oracle.storage[$0]) > budget.storage[$0] }
        #expect(outside.isEmpty, "\(outside.count) entries outside the rounding budget")
    }
}
