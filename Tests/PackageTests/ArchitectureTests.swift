import Foundation
import Testing

/// The library's folders depend on each other in one direction (the Architecture article):
/// a folder uses only names declared in folders on a lower layer.
@Suite("Architecture: the folders of the library depend one way")
struct ArchitectureTests {
    /// Bottom to top; folders on one layer do not use each other.
    static let layers: [[String]] = [
        ["Numerics"], ["IO"], ["Model"], ["Tasks", "Optimization", "Dynamics"], ["Learning", "Flossing"], ["Training"], ["Study", "Benchmark"], ["Golden"],
    ]

    static func layer(of folder: String) -> Int? { layers.firstIndex { $0.contains(folder) } }

    /// Swift source without comments and string literals, so that a word in a doc comment or a
    /// message is not taken for a use.
    static func code(_ text: String) -> String {
        var s = text.replacingOccurrences(of: #"(?s)/\*.*?\*/"#, with: " ", options: .regularExpression)
        s = s.replacingOccurrences(of: #"(?s)""".*?""""#, with: "\"\"", options: .regularExpression)
        s = s.replacingOccurrences(of: #"//[^\n]*"#, with: " ", options: .regularExpression)
        return s.replacingOccurrences(of: #""(\\.|[^"\\\n])*""#, with: "\"\"", options: .regularExpression)
    }

    /// Each folder's Swift code.
    static let folders: [String: String] = {
        var out: [String: String] = [:]
        for url in SourceTree.files(under: "Sources/BioRNN", extensions: [".swift"]) {
            let parts = SourceTree.relative(url).split(separator: "/")
            guard parts.count == 4 else { continue }   // Sources/BioRNN/<folder>/<file>
            out[String(parts[2]), default: ""] += code(SourceTree.text(url)) + "\n"
        }
        return out
    }()

    /// Type and top-level function names declared in each folder.
    static func declarations(in code: String) -> [String] {
        SourceTree.captures(#"(?m)^(?:public |internal |private |fileprivate |final |indirect )*(?:struct|enum|class|protocol|typealias|func)\s+([A-Za-z_][A-Za-z0-9_]*)"#, in: code).map { $0[1] }
    }

    /// (user, owner, name) for every use of a name declared in another folder.
    static func uses() -> [(user: String, owner: String, name: String)] {
        var owner: [String: String] = [:]
        for (folder, code) in folders { for name in declarations(in: code) where owner[name] == nil { owner[name] = folder } }
        var out: [(String, String, String)] = []
        for (folder, code) in folders {
            let words = Set(SourceTree.captures(#"\b[A-Za-z_][A-Za-z0-9_]*\b"#, in: code).map { $0[0] })
            for (name, home) in owner where home != folder && words.contains(name) { out.append((folder, home, name)) }
        }
        return out
    }

    @Test("every folder of Sources/BioRNN has a layer")
    func everyFolderPlaced() {
        #expect(Self.folders.count >= 10)
        for folder in Self.folders.keys { #expect(Self.layer(of: folder) != nil, "\(folder) is on no layer") }
    }

    @Test("no folder uses a name from its own layer or a higher one")
    func oneDirection() {
        for use in Self.uses() {
            guard let from = Self.layer(of: use.user), let to = Self.layer(of: use.owner) else { continue }
            #expect(to < from, "\(use.user) uses \(use.name) from \(use.owner)")
        }
    }

    @Test("the scan sees real uses (Training uses Learning's RuleRegistry) and strips comments and strings")
    func scanWorks() {
        #expect(Self.uses().contains { $0.user == "Training" && $0.owner == "Learning" && $0.name == "RuleRegistry" })
        #expect(Self.code("let a = 1 // Report\nlet s = \"Report\"") == "let a = 1  \nlet s = \"\"")
    }
}
