import BioRNN
import Foundation

/// stdout for results, stderr for progress — and progress only when stderr is a terminal.
enum Output {
    static func printJSON(_ value: JSONValue) { print(value.serialized) }

    static let progressIsVisible = isatty(STDERR_FILENO) == 1

    /// Overwrites one progress line on stderr, when it is a terminal.
    static func progress(_ text: String) {
        guard progressIsVisible else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
    }

    static func endProgress() {
        guard progressIsVisible else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}

/// A seed as the CLI accepts it: an integer that JSON numbers represent exactly (≤ 2⁵³).
func validatedSeed(_ seed: Int, field: String = "seed") throws -> UInt64 {
    guard seed >= 0 && seed <= 1 << 53 else { throw InputError("\(field): must lie in 0…\(1 << 53), got \(seed)") }
    return UInt64(seed)
}
