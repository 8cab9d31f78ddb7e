import ArgumentParser
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

    /// One line on stderr, terminal or not (what a log should keep).
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    /// Says on stderr, before it starts, that a piece of work is large: more than about 3·10¹¹
    /// multiply-adds, which is minutes at the rates BioRNN reaches on small blocks.
    static func announce(_ command: String, multiplyAdds: Double, what: String) {
        guard multiplyAdds > 3e11 else { return }
        note("biornn: \(command): \(what): about \(String(format: "%.0e", multiplyAdds)) multiply-adds; this may take a long time")
    }
}

/// "name: 40% (400/1000 steps), ETA 12 s" on a terminal's stderr.
struct ProgressLine {
    let name: String
    let unit: String
    let start = Date()

    func update(_ done: Int, of total: Int, detail: String = "") {
        guard Output.progressIsVisible, total > 0 else { return }
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : .nan
        let percent = Int((100 * Double(done) / Double(total)).rounded(.down))
        Output.progress("\(name): \(percent)% (\(done)/\(total) \(unit)), ETA \(eta.isFinite ? formatDuration(eta) : "…")"
                        + (detail.isEmpty ? "" : " — \(detail)"))
    }
}

/// "42 s", "3 min 5 s", "2 h 10 min".
func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s) s" }
    if s < 3600 { return "\(s / 60) min \(s % 60) s" }
    return "\(s / 3600) h \(s % 3600 / 60) min"
}

/// A seed as the CLI accepts it: an integer that JSON numbers represent exactly (≤ 2⁵³).
func validatedSeed(_ seed: Int, field: String = "seed") throws -> UInt64 {
    guard seed >= 0 && seed <= 1 << 53 else { throw InputError("\(field): must lie in 0…\(1 << 53), got \(seed)") }
    return UInt64(seed)
}

/// An integer option: digits, or a whole number in scientific notation (`--steps 1e6`). With
/// `.unconditional` parsing, a negative value (`--units -5`) reaches the range check instead of
/// being taken for an option.
struct Whole: ExpressibleByArgument, ExpressibleByIntegerLiteral, CustomStringConvertible, Sendable {
    let value: Int

    init(integerLiteral value: Int) { self.value = value }
    init(_ value: Int) { self.value = value }

    init?(argument text: String) {
        if let v = Int(text) { value = v; return }
        guard let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        value = Int(d)
    }

    var description: String { "\(value)" }
}

/// Refuses an option's old spelling, naming the new one.
func refuseRenamed(_ value: String?, old: String, new: String, why: String = "") throws {
    guard value != nil else { return }
    throw InputError("\(old): renamed to --\(new)\(why.isEmpty ? "" : " (\(why))")")
}
