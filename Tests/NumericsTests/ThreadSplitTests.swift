@testable import BioRNN
import Testing

/// ThreadSplit's helper threads hand each part to one thread and report back only when every part
/// has run and its writes are visible; a caller that finds them busy falls back to Dispatch's pool.
/// (That results do not depend on the number of threads is the end-to-end byte-identity test's job.)
@Suite("ThreadSplit's spinning helpers")
struct ThreadSplitTests {
    @Test("every part runs exactly once and its writes are seen, from one caller and from eight at once", .timeLimit(.minutes(1)))
    func everyPartOnce() async {
        // 3 parts: two helpers beside the caller, more than this machine's cores, so helpers
        // also sleep and are woken. Eight callers at once: all but one find the helpers busy.
        let parts = 3, rounds = 2000
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for round in 0..<rounds {
                        var seen = [Int](repeating: 0, count: parts)
                        seen.withUnsafeMutableBufferPointer { slots in
                            nonisolated(unsafe) let slots = slots   // each part writes its own slot
                            ThreadSplit.parallel(parts) { part in slots[part] += round + part }
                        }
                        if seen != (0..<parts).map({ round + $0 }) { wrong += 1 }
                    }
                    return wrong
                }
            }
            for await wrong in group { #expect(wrong == 0, "\(wrong) of \(rounds) rounds saw a part missing or run twice") }
        }
    }
}
