import Foundation

/// The package's own files, read by the tests that check the package itself.
enum SourceTree {
    /// The package root: three folders above this file (Tests/PackageTests/SourceTree.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let catalog = root.appendingPathComponent("Sources/BioRNN/BioRNN.docc")

    /// Every file under `folder` (relative to the root) whose name ends in one of `extensions`.
    static func files(under folder: String, extensions: [String]) -> [URL] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { url in extensions.contains { url.lastPathComponent.hasSuffix($0) } }
            .sorted { $0.path < $1.path }
    }

    static func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    static func relative(_ url: URL) -> String { String(url.path.dropFirst(root.path.count + 1)) }

    /// All matches of a regular expression's first capture group (the whole match without one).
    static func captures(_ pattern: String, in text: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
            (0..<m.numberOfRanges).map { i in Range(m.range(at: i), in: text).map { String(text[$0]) } ?? "" }
        }
    }
}
