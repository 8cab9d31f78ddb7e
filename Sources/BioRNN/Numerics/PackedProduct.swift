import CKernels

/// A matrix M packed once for the many per-step products of a pass (`biornn_packed_product`):
///
///     C_b += α·M·r_b   for every row r_b of a B×k block R, into the B×n block C
///
/// Forwards M = W_rec (A_t += α·R_{t−1}·W_recᵀ); backwards M = W_recᵀ (δ·W_rec). OpenBLAS packs
/// W_rec afresh on every one of a pass's T calls, which at B = 32, N = 256 costs as much as the
/// multiply-adds; packed once, the same product runs about twice as fast on one core
/// (<doc:Performance#The-packed-recurrent-product>), and every output has the same bits on every CPU and for
/// every split of the rows between threads (see the kernel's header).
final class PackedMatrix: @unchecked Sendable {   // written once in init, read-only afterwards
    let rows: Int
    let cols: Int
    private let storage: UnsafeMutablePointer<Double>

    /// Packs `m`, or its transpose.
    init(_ m: Matrix, transposed: Bool = false) {
        (rows, cols) = transposed ? (m.cols, m.rows) : (m.rows, m.cols)
        let count = biornn_packed_count(rows, cols)
        // The kernel reads whole 64-byte vectors of a panel row.
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Double>.stride, alignment: 64)
            .bindMemory(to: Double.self, capacity: max(count, 1))
        m.storage.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            if transposed { biornn_pack(base, 1, m.cols, rows, cols, storage) } else { biornn_pack(base, m.cols, 1, rows, cols, storage) }
        }
    }

    deinit { storage.deallocate() }

    /// C[b·ldc + i] += α·Σ_j R[b·ldr + j]·M_ij for b < `count` rows.
    func accumulate(rows count: Int, alpha: Double, _ r: UnsafePointer<Double>, ldr: Int,
                    into c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard count > 0, rows > 0 else { return }
        biornn_packed_product(count, rows, cols, alpha, r, ldr, storage, c, ldc)
    }
}
