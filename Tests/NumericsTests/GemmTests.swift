import BioRNN
import BioRNNTesting
import CKernels
import PropertyBased
import Testing

/// One matrix-product case: C = α·op(A)·op(B) + β·C₀ with op(A) m×k, op(B) k×n, entries N(0, 1)
/// drawn from `RandomStream(seed:)`. Printed in full by swift-property-based on failure.
struct GemmCase: Sendable, CustomStringConvertible {
    let m: Int, n: Int, k: Int
    let transA: Transpose, transB: Transpose
    let alpha: Double, beta: Double
    let seed: UInt64

    var description: String { "GemmCase(m: \(m), n: \(n), k: \(k), transA: .\(transA), transB: .\(transB), alpha: \(alpha), beta: \(beta), seed: \(seed))" }

    func operands() -> (a: Matrix, b: Matrix, c0: Matrix) {
        var rng = RandomStream(seed: seed)
        let a = transA == .none ? Matrix.randomNormal(rows: m, cols: k, sd: 1, using: &rng) : Matrix.randomNormal(rows: k, cols: m, sd: 1, using: &rng)
        let b = transB == .none ? Matrix.randomNormal(rows: k, cols: n, sd: 1, using: &rng) : Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &rng)
        return (a, b, Matrix.randomNormal(rows: m, cols: n, sd: 1, using: &rng))
    }
}

/// Dimensions: a quarter of draws are 1…3 (vectors, 1×1, thin shapes), the rest up to 96, so
/// tall, wide and square blocks all occur.
let dimension = Gen.frequency((weight: 1, gen: Gen.int(in: 1...3)), (weight: 3, gen: Gen.int(in: 1...96)))

let gemmCases = zip(
    dimension, dimension, dimension, Gen<Transpose>.case, Gen<Transpose>.case,
    Gen.double(in: -2...2), Gen.element(of: [0.0, 1.0, -0.5]), Gen<UInt64>.value()
).map { GemmCase(m: $0, n: $1, k: $2, transA: $3, transB: $4, alpha: $5, beta: $6 ?? 0, seed: $7) }

/// Products above `BLAS.gemm`'s 2²² multiply-adds, which it splits between threads by C's rows or,
/// when C has fewer rows than columns, by its columns: a row or column count 1…300 against one
/// 150…300, and k 64…128, so both splits occur along with uneven blocks and products below the
/// threshold.
let splitGemmCases = zip(
    Gen.int(in: 1...300), Gen.int(in: 150...300), Gen.int(in: 64...128), Gen.bool, Gen<Transpose>.case, Gen<Transpose>.case,
    Gen.double(in: -2...2), Gen<UInt64>.value()
).map { few, many, k, wide, ta, tb, alpha, seed in
    GemmCase(m: wide ? few : many, n: wide ? many : few, k: k, transA: ta, transB: tb, alpha: alpha, beta: 1, seed: seed)
}

@Suite("Matrix products against GSL's own CBLAS")
struct GemmTests {
    @Test("gemm equals GSL dgemm within 2·γ_{k+2}·(|α||A||B| + |β||C₀|) per entry")
    func gemmMatchesOracle() async {
        await propertyCheck(count: 200, input: gemmCases) { c in
            expectGemmWithinBudget(c)
        }
    }

    @Test("products large enough to be split between threads equal GSL dgemm within the same budget")
    func splitGemmMatchesOracle() async {
        await propertyCheck(count: 20, input: splitGemmCases) { c in
            expectGemmWithinBudget(c)
        }
    }

    /// The recurrent step's kernel, C += α·R·Mᵀ with M packed (forwards M = W_rec) or with M = Wᵀ
    /// packed from W (backwards): every shape of tile and panel remainder (rows 1…11 against the
    /// 4-row tile, n 1…70 against the 32-wide panel).
    @Test("packed product C += α·R·Mᵀ equals GSL dgemm within 2·γ_{k+2}·(|α||R||Mᵀ| + |C₀|), for M and for a packed transpose")
    func packedProductMatchesOracle() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...11), Gen.int(in: 1...70), Gen.int(in: 1...70), Gen.bool, Gen<UInt64>.value()) { rows, n, k, transposed, seed in
            var rng = RandomStream(seed: seed)
            let r = Matrix.randomNormal(rows: rows, cols: k, sd: 1, using: &rng)
            let stored = transposed ? Matrix.randomNormal(rows: k, cols: n, sd: 1, using: &rng) : Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &rng)
            let c0 = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let alpha = rng.normal()
            let ours = packedProduct(r, stored, transposed: transposed, c0: c0, alpha: alpha, rowBlocks: [rows])
            let m: Matrix = transposed ? stored.transposed : stored
            let oracle = GSL.gemm(.none, r, .transposed, m, adding: c0, alpha: alpha, beta: 1)
            let budget = ErrorBudget.gemm(.none, r, .transposed, m, c0: c0, alpha: alpha, beta: 1)
            expectWithin(budget, ours, oracle)
        }
    }

    /// Why the forward and backward passes may split their trials between threads: each row's
    /// sums run in the same order whichever block of rows it is computed in, so the bits are the
    /// same (the claim is exact, not a tolerance).
    @Test("packed product: the same bits however the rows are split into blocks")
    func packedProductSplitInvariance() async {
        await propertyCheck(count: 50, input: Gen.int(in: 2...40), Gen.int(in: 1...70), Gen.int(in: 1...70), Gen<UInt64>.value()) { rows, n, k, seed in
            var rng = RandomStream(seed: seed)
            let r = Matrix.randomNormal(rows: rows, cols: k, sd: 1, using: &rng)
            let m = Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &rng)
            let c0 = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let cut = 1 + Int(rng.next() % UInt64(rows - 1))   // two blocks, 1…rows−1 and the rest
            let whole = packedProduct(r, m, transposed: false, c0: c0, alpha: 0.3, rowBlocks: [rows])
            let split = packedProduct(r, m, transposed: false, c0: c0, alpha: 0.3, rowBlocks: [cut, rows - cut])
            let single = packedProduct(r, m, transposed: false, c0: c0, alpha: 0.3, rowBlocks: Array(repeating: 1, count: rows))
            #expect(whole == split, "rows split at \(cut)")
            #expect(whole == single, "rows one at a time")
        }
    }

    /// The readout's kernel, C += R·Mᵀ for a short M (n = 1…4 rows): k 1…70 covers every remainder
    /// of the 8 lanes, and rows are computed one block at a time at a random cut, which must give
    /// the same bits as one call.
    @Test("dot rows C += R·Mᵀ equal GSL dgemm within 2·γ_{k+2}·(|R||Mᵀ| + |C₀|), the same bits for any split of the rows")
    func dotRowsMatchOracle() async {
        await propertyCheck(count: 100, input: Gen.int(in: 2...11), Gen.int(in: 1...4), Gen.int(in: 1...70), Gen<UInt64>.value()) { rows, n, k, seed in
            var rng = RandomStream(seed: seed)
            let r = Matrix.randomNormal(rows: rows, cols: k, sd: 1, using: &rng)
            let m = Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &rng)
            let c0 = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let cut = 1 + Int(rng.next() % UInt64(rows - 1))
            let whole = dotRows(r, m, c0: c0, rowBlocks: [rows])
            let oracle = GSL.gemm(.none, r, .transposed, m, adding: c0, alpha: 1, beta: 1)
            expectWithin(ErrorBudget.gemm(.none, r, .transposed, m, c0: c0, alpha: 1, beta: 1), whole, oracle)
            #expect(dotRows(r, m, c0: c0, rowBlocks: [cut, rows - cut]) == whole, "rows split at \(cut)")
        }
    }

    /// The narrow weight gradients' pass: P = Xᵀ·A (m×n) and S = 1ᵀ·A, rows 1…200 on both sides of
    /// the kernel's 128 (column blocks up to there, rows one by one beyond), columns across its blocks
    /// of 16, m 0…13 (no inputs, and more than one group of 6 sums held at once).
    @Test("narrow products Xᵀ·A and column sums equal GSL dgemm within 2·γ_{rows+2}·|X|ᵀ|A| (S: X = 1)")
    func narrowProductsMatchOracle() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...200), Gen.int(in: 1...70), Gen.int(in: 0...13), Gen<UInt64>.value()) { rows, n, m, seed in
            var rng = RandomStream(seed: seed)
            let x = Matrix.randomNormal(rows: rows, cols: m, sd: 1, using: &rng)
            let a = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let (p, s) = narrowProducts(x, a, columnBlocks: [n])
            let ones = Matrix(rows: rows, cols: 1, storage: [Double](repeating: 1, count: rows))
            for (ours, weights) in [(p, x), (s, ones)] where weights.cols > 0 {
                let oracle = GSL.gemm(.transposed, weights, .none, a)
                expectWithin(ErrorBudget.gemm(.transposed, weights, .none, a, c0: nil, alpha: 1, beta: 0), ours, oracle)
            }
        }
    }

    /// Why the pass may split A's columns between threads: each entry sums the rows in order
    /// whichever block of columns it is in, held in registers or not (exact, not a tolerance).
    @Test("narrow products: the same bits however the columns are split into blocks")
    func narrowProductsSplitInvariance() async {
        await propertyCheck(count: 50, input: Gen.int(in: 1...200), Gen.int(in: 2...70), Gen.int(in: 1...13), Gen<UInt64>.value()) { rows, n, m, seed in
            var rng = RandomStream(seed: seed)
            let x = Matrix.randomNormal(rows: rows, cols: m, sd: 1, using: &rng)
            let a = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let cut = 1 + Int(rng.next() % UInt64(n - 1))   // two blocks, 1…n−1 and the rest
            let whole = narrowProducts(x, a, columnBlocks: [n])
            let split = narrowProducts(x, a, columnBlocks: [cut, n - cut])
            #expect(whole.p == split.p && whole.s == split.s, "columns split at \(cut)")
        }
    }

    /// The recurrent weight gradient's kernel, C += α·Aᵀ·B over tall A and B: rows 1…300 cross
    /// its blocks of 128 rows, C's rows 1…11 every remainder of the 4-row tile and its columns
    /// 1…300 every remainder of the 32-wide panel and of the 256-column group. Each entry is a sum of `rows` products whose
    /// terms see at most rows + 2 roundings however the blocks fall (Kernels.h), hence γ_{rows+2}.
    @Test("transposed product C += α·Aᵀ·B equals GSL dgemm within 2·γ_{rows+2}·(|α||A|ᵀ|B| + |C₀|)")
    func transposedProductMatchesOracle() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...300), Gen.int(in: 1...11), Gen.int(in: 1...300), Gen<UInt64>.value()) { rows, n, m, seed in
            var rng = RandomStream(seed: seed)
            let a = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let b = Matrix.randomNormal(rows: rows, cols: m, sd: 1, using: &rng)
            let c0 = Matrix.randomNormal(rows: n, cols: m, sd: 1, using: &rng)
            let alpha = rng.normal()
            let ours = transposedProduct(a, b, c0: c0, alpha: alpha, rowBlocks: [n])
            let oracle = GSL.gemm(.transposed, a, .none, b, adding: c0, alpha: alpha, beta: 1)
            expectWithin(ErrorBudget.gemm(.transposed, a, .none, b, c0: c0, alpha: alpha, beta: 1), ours, oracle)
        }
    }

    /// Why the recurrent weight gradient may split C's rows between threads: each entry sums the
    /// same blocks of rows in the same order whichever rows of C it is computed with (exact).
    @Test("transposed product: the same bits however C's rows are split into blocks")
    func transposedProductSplitInvariance() async {
        await propertyCheck(count: 50, input: Gen.int(in: 1...300), Gen.int(in: 2...11), Gen.int(in: 1...300), Gen<UInt64>.value()) { rows, n, m, seed in
            var rng = RandomStream(seed: seed)
            let a = Matrix.randomNormal(rows: rows, cols: n, sd: 1, using: &rng)
            let b = Matrix.randomNormal(rows: rows, cols: m, sd: 1, using: &rng)
            let c0 = Matrix.randomNormal(rows: n, cols: m, sd: 1, using: &rng)
            let cut = 1 + Int(rng.next() % UInt64(n - 1))   // two blocks, 1…n−1 and the rest
            let whole = transposedProduct(a, b, c0: c0, alpha: 0.3, rowBlocks: [n])
            #expect(transposedProduct(a, b, c0: c0, alpha: 0.3, rowBlocks: [cut, n - cut]) == whole, "rows of C split at \(cut)")
            #expect(transposedProduct(a, b, c0: c0, alpha: 0.3, rowBlocks: Array(repeating: 1, count: n)) == whole, "rows of C one at a time")
        }
    }

    /// `eligibilityProducts` reads blocks of up to 512 columns in place and hands wider ones to
    /// OpenBLAS (`Matrix.transposedProductLimit`); both sides, large enough to be split between
    /// threads, must stay within the gemm budget of GSL.
    @Test("eligibility products on both sides of the in-place limit equal GSL dgemm within 2·γ_{rows+2}·|post|ᵀ|pre|")
    func eligibilityProductsBothSidesOfTheLimit() {
        var rng = RandomStream(seed: 23)
        for columns in [512, 600] {
            let post = Matrix.randomNormal(rows: 64, cols: 200, sd: 1, using: &rng)
            let pre = Matrix.randomNormal(rows: 64, cols: columns, sd: 1, using: &rng)
            let ours = eligibilityProducts(post: post.storage, pre: pre.storage, rows: 64)
            let oracle = GSL.gemm(.transposed, post, .none, pre)
            expectWithin(ErrorBudget.gemm(.transposed, post, .none, pre, c0: nil, alpha: 1, beta: 0), ours, oracle)
        }
    }

    /// A rule with no inputs asks for the products of an empty block: the answer is an empty matrix.
    @Test("eligibility products with no postsynaptic or no presynaptic columns are empty matrices")
    func emptyEligibilityProducts() {
        #expect(eligibilityProducts(post: [], pre: [1, 2, 3], rows: 3) == Matrix(rows: 0, cols: 1))
        #expect(eligibilityProducts(post: [1, 2, 3], pre: [], rows: 3) == Matrix(rows: 1, cols: 0))
    }

    @Test("matrix-vector products and rank-1 updates equal the oracle's gemm on column vectors")
    func gemvAndGer() async {
        await propertyCheck(count: 100, input: dimension, dimension, Gen<Transpose>.case, Gen<UInt64>.value()) { m, n, trans, seed in
            var rng = RandomStream(seed: seed)
            let a = Matrix.randomNormal(rows: m, cols: n, sd: 1, using: &rng)
            let x = (0..<(trans == .none ? n : m)).map { _ in rng.normal() }
            let xCol = Matrix(rows: x.count, cols: 1, storage: x)
            let y = a.times(x, trans)
            let expected = GSL.gemm(trans, a, .none, xCol)
            let budget = ErrorBudget.gemm(trans, a, .none, xCol, c0: nil, alpha: 1, beta: 0)
            for i in 0..<y.count { #expect(abs(y[i] - expected.storage[i]) <= budget.storage[i]) }

            let u = (0..<m).map { _ in rng.normal() }, v = (0..<n).map { _ in rng.normal() }
            var updated = a
            updated.addOuterProduct(u, v, alpha: -0.75)
            let outer = GSL.gemm(.none, Matrix(rows: m, cols: 1, storage: u), .none, Matrix(rows: 1, cols: n, storage: v),
                                 adding: a, alpha: -0.75, beta: 1)
            // One product, one scaling, one addition per entry: within γ₃·(|α u_i v_j| + |a_ij|), twice.
            for i in 0..<(m * n) {
                let scale = 0.75 * abs(u[i / n] * v[i % n]) + abs(a.storage[i])
                #expect(abs(updated.storage[i] - outer.storage[i]) <= 2 * ErrorBudget.gamma(3) * scale)
            }
        }
    }

    @Test("edge shapes: 1×1, row times column, column times row, empty inner dimension")
    func edgeShapes() {
        let one = Matrix([[3.0]])
        #expect(one * one == Matrix([[9.0]]))
        let row = Matrix([[1.0, 2, 3]]), col = Matrix([[4.0], [5], [6]])
        #expect(row * col == Matrix([[32.0]]))
        #expect(col * row == Matrix([[4.0, 8, 12], [5, 10, 15], [6, 12, 18]]))
        #expect(Matrix.product(.transposed, row, .none, row) == row.transposed * row)
        // k = 0: the product is an empty sum, so C ← β·C.
        var c = Matrix([[1.0, 2], [3, 4]])
        Matrix.gemm(Matrix(rows: 2, cols: 0), Matrix(rows: 0, cols: 2), into: &c, beta: 2)
        #expect(c == Matrix([[2.0, 4], [6, 8]]))
    }
}

/// C₀ + α·R·Mᵀ by CKernels' packed product, with M = `stored` or its transpose, computed block
/// by block over R's rows (`rowBlocks` sums to R's rows).
func packedProduct(_ r: Matrix, _ stored: Matrix, transposed: Bool, c0: Matrix, alpha: Double, rowBlocks: [Int]) -> Matrix {
    let (n, k) = transposed ? (stored.cols, stored.rows) : (stored.rows, stored.cols)
    var packed = [Double](repeating: .nan, count: biornn_packed_count(n, k) + 8)   // +8: room to align to 64 bytes
    var c = c0
    packed.withUnsafeMutableBufferPointer { buffer in
        let raw = UInt(bitPattern: buffer.baseAddress!)
        let p = buffer.baseAddress! + Int((64 - raw % 64) % 64) / MemoryLayout<Double>.stride
        stored.storage.withUnsafeBufferPointer { s in
            if transposed { biornn_pack(s.baseAddress!, 1, stored.cols, n, k, p) } else { biornn_pack(s.baseAddress!, stored.cols, 1, n, k, p) }
        }
        r.storage.withUnsafeBufferPointer { rp in
            c.withUnsafeMutableEntries { cp in
                var first = 0
                for count in rowBlocks {
                    biornn_packed_product(count, n, k, alpha, rp.baseAddress! + first * k, k, p, cp.baseAddress! + first * n, n)
                    first += count
                }
            }
        }
    }
    return c
}

/// C₀ + R·Mᵀ by CKernels' dot rows, computed block by block over R's rows (`rowBlocks` sums to
/// R's rows).
func dotRows(_ r: Matrix, _ m: Matrix, c0: Matrix, rowBlocks: [Int]) -> Matrix {
    let (n, k) = (m.rows, m.cols)
    var c = c0
    r.storage.withUnsafeBufferPointer { rp in
        m.storage.withUnsafeBufferPointer { mp in
            c.withUnsafeMutableEntries { cp in
                var first = 0
                for count in rowBlocks {
                    biornn_dot_rows(count, n, k, rp.baseAddress! + first * k, k, mp.baseAddress!, k, cp.baseAddress! + first * n, n)
                    first += count
                }
            }
        }
    }
    return c
}

/// C₀ + α·Aᵀ·B by CKernels' transposed product, computed block by block over C's rows
/// (`rowBlocks` sums to A's columns).
func transposedProduct(_ a: Matrix, _ b: Matrix, c0: Matrix, alpha: Double, rowBlocks: [Int]) -> Matrix {
    let (rows, n, m) = (a.rows, a.cols, b.cols)
    var c = c0
    a.storage.withUnsafeBufferPointer { ap in
        b.storage.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableEntries { cp in
                var first = 0
                for count in rowBlocks {
                    biornn_transposed_product(rows, alpha, ap.baseAddress!, n, first, first + count, bp.baseAddress!, m, m, cp.baseAddress!, m)
                    first += count
                }
            }
        }
    }
    return c
}

/// Xᵀ·A (m×n) and the column sums of A (1×n) by CKernels' narrow products, computed block by
/// block over A's columns (`columnBlocks` sums to A's columns).
func narrowProducts(_ x: Matrix, _ a: Matrix, columnBlocks: [Int]) -> (p: Matrix, s: Matrix) {
    let (rows, n, m) = (a.rows, a.cols, x.cols)
    var p = [Double](repeating: 0, count: m * n), s = [Double](repeating: 0, count: n)
    x.storage.withUnsafeBufferPointer { xp in
        a.storage.withUnsafeBufferPointer { ap in
            p.withUnsafeMutableBufferPointer { pp in
                s.withUnsafeMutableBufferPointer { sp in
                    var first = 0
                    for count in columnBlocks {
                        biornn_narrow_products(xp.baseAddress, m, ap.baseAddress!, n, rows, first, first + count, pp.baseAddress, n, sp.baseAddress!)
                        first += count
                    }
                }
            }
        }
    }
    return (Matrix(rows: m, cols: n, storage: p), Matrix(rows: 1, cols: n, storage: s))
}

/// Matrix.gemm on the case against GSL's dgemm, entry by entry within `ErrorBudget.gemm`.
func expectGemmWithinBudget(_ c: GemmCase, sourceLocation: SourceLocation = #_sourceLocation) {
    let (a, b, c0) = c.operands()
    var ours = c0
    Matrix.gemm(c.transA, a, c.transB, b, into: &ours, alpha: c.alpha, beta: c.beta)
    let oracle = GSL.gemm(c.transA, a, c.transB, b, adding: c0, alpha: c.alpha, beta: c.beta)
    expectWithin(ErrorBudget.gemm(c.transA, a, c.transB, b, c0: c0, alpha: c.alpha, beta: c.beta), ours, oracle, sourceLocation: sourceLocation)
}

func expectWithin(_ budget: Matrix, _ ours: Matrix, _ oracle: Matrix, sourceLocation: SourceLocation = #_sourceLocation) {
    let violations = (0..<ours.storage.count).filter { abs(ours.storage[$0] - oracle.storage[$0]) > budget.storage[$0] }
    #expect(violations.isEmpty, "\(violations.count) entries outside the rounding budget", sourceLocation: sourceLocation)
}
