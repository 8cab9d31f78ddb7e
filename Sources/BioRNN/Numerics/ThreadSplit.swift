import CKernels
import Dispatch
import Foundation
import Synchronization

/// Work split between threads by independent rows: the trials of a batch in the forward and
/// backward recurrences, the tangent vectors of a Lyapunov step (and by independent columns:
/// those of the narrow weight gradients, `Matrix.narrowProducts`, and of CholeskyQR2's kernels).
/// Each thread runs every time step on its own rows, and the threads meet once, at the end,
/// instead of once per step.
enum ThreadSplit {
    /// Runs `body` on contiguous ranges covering 0..<count, one per thread, at once, on at most
    /// `BLAS.threadCount` threads, and on the calling thread alone when `work` (multiply-adds) is
    /// below 2²⁰, where a second thread stops paying (<doc:Performance#When-a-second-thread-pays>).
    /// The ranges differ in length by at most one, and depend only on `count` and the thread
    /// count, never on which threads run them.
    static func run(_ count: Int, work: Double, _ body: (Range<Int>) -> Void) {
        let threads = min(BLAS.threadCount, count)
        guard threads > 1, splits(work: work) else { body(0..<count); return }
        // Each call writes only its own rows, so the calls do not race, which the compiler
        // cannot see through the callers' pointers.
        parallel(threads) { p in body((p * count / threads)..<((p + 1) * count / threads)) }
    }

    /// Whether `run` splits `work` multiply-adds (given more than one thread).
    static func splits(work: Double) -> Bool { work >= Double(1 << 20) }

    /// Runs the parts as `parallel` does, but only on the caller and `SpinningWorkers`' helpers,
    /// dedicated threads that run their parts at once, so that a part may wait for another's
    /// progress; false, having run nothing, when another call holds the helpers (Dispatch's pool
    /// may run parts one after another on one thread).
    static func concurrently(_ parts: Int, _ part: (Int) -> Void) -> Bool {
        withoutActuallyEscaping(part) { part in
            nonisolated(unsafe) let part = part
            return SpinningWorkers.shared.run(parts) { part($0) }
        }
    }

    /// Runs `part(0)`, …, `part(parts − 1)` at once, each on its own thread (the caller's and
    /// `SpinningWorkers`' helpers, or Dispatch's pool while another call holds those), and
    /// returns when all have. The parts must touch disjoint memory.
    static func parallel(_ parts: Int, _ part: (Int) -> Void) {
        withoutActuallyEscaping(part) { part in
            nonisolated(unsafe) let part = part
            let sendable: @Sendable (Int) -> Void = { part($0) }
            if !SpinningWorkers.shared.run(parts, sendable) {
                DispatchQueue.concurrentPerform(iterations: parts, execute: sendable)
            }
        }
    }
}

/// ThreadSplit's helper threads. Between calls each spins for up to `spinTime` and only then
/// sleeps, so a call that follows within it starts in about 0.1 µs (a round trip between the two
/// cores here) instead of the 5–20 µs of waking a sleeping thread — the difference between
/// a Lyapunov step's J·Q product (2·10⁶ multiply-adds, the threads meeting every step) paying
/// for a second thread and not (<doc:Performance#When-a-second-thread-pays>).
///
/// One caller at a time: a call made while another is running (several threads of the process
/// splitting work at once) returns false and the caller falls back to Dispatch's pool.
final class SpinningWorkers: @unchecked Sendable {   // `job` is handed over through `generation`'s release/acquire
    static let shared = SpinningWorkers()

    /// How long an idle helper spins before it sleeps: 1 ms, ten Lyapunov steps at N = 256, k = 32,
    /// while a helper that kept spinning would take a core from the rest of the process for
    /// nothing (as OpenBLAS's did for 0.1 s, <doc:Performance#Threads>).
    static let spinTime: UInt64 = 1_000_000   // ns

    private final class Helper: @unchecked Sendable {   // all fields are atomics or a semaphore
        /// Bumped by the caller to hand over a job; the helper remembers the last it ran.
        let generation = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private let busy = Atomic<Bool>(false)
    private let finished = Atomic<Int>(0)
    // Written only by the caller holding `busy`; read by helpers between a generation's
    // acquire and their `finished` release.
    private var helpers: [Helper] = []
    private var job: (@Sendable (Int) -> Void)?
    private var round = 0

    /// Runs `part(0)` on the calling thread and `part(1)`, …, `part(parts − 1)` on helpers, and
    /// returns when all have returned; false, without running anything, when another call holds
    /// the helpers.
    func run(_ parts: Int, _ part: @escaping @Sendable (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        while helpers.count < parts - 1 { start(helpers.count + 1) }
        job = part
        round += 1
        finished.store(0, ordering: .relaxed)
        for helper in helpers.prefix(parts - 1) {
            helper.generation.store(round, ordering: .sequentiallyConsistent)
            if helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) { helper.wake.signal() }
        }
        part(0)
        while finished.load(ordering: .acquiring) < parts - 1 { biornn_spin_pause() }
        job = nil
        busy.store(false, ordering: .releasing)
        return true
    }

    private func start(_ index: Int) {
        let helper = Helper()
        helpers.append(helper)
        let thread = Thread { [self] in self.serve(helper, part: index) }
        thread.start()
    }

    /// A helper's life: wait for the next generation (spinning, then sleeping), run its part.
    private func serve(_ helper: Helper, part: Int) {
        var seen = 0
        while true {
            var spins = 0, since = DispatchTime.now().uptimeNanoseconds
            while helper.generation.load(ordering: .acquiring) == seen {
                biornn_spin_pause()
                spins += 1
                guard spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - since > Self.spinTime else { continue }
                // Sleep, unless a job arrived meanwhile: then whoever clears `sleeping` first
                // decides whether the semaphore is signalled, and a signal is always consumed.
                helper.sleeping.store(true, ordering: .sequentiallyConsistent)
                if helper.generation.load(ordering: .sequentiallyConsistent) != seen,
                   helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) { break }
                helper.wake.wait()
                since = DispatchTime.now().uptimeNanoseconds
            }
            seen = helper.generation.load(ordering: .acquiring)
            runJob(part)
            finished.add(1, ordering: .releasing)
        }
    }

    /// Runs the current job's part in a frame of its own, so that the helper's reference to the
    /// closure is released before the helper reports it finished (the caller's
    /// `withoutActuallyEscaping` checks that no reference outlives the call).
    @inline(never) private func runJob(_ part: Int) { job!(part) }
}
