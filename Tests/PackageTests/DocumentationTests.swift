import Foundation
import Testing

/// The reference documentation is the DocC catalog in Sources/BioRNN/BioRNN.docc. Code, help
/// texts, tests and the README cite its articles in three forms, and every citation must land:
/// - `<doc:Name>` or `<doc:Name#Heading>` (doc comments, DocC's own form),
/// - `“Title” in the documentation` (help texts, which users read in a terminal),
/// - `the Name article` (test code and C comments), and README links to `BioRNN.docc/Name.md`.
@Suite("Documentation: every citation lands in the DocC catalog")
struct DocumentationTests {
    /// Article file name (without .md) → its title and the anchors of its headings.
    static let articles: [String: (title: String, anchors: Set<String>)] = {
        var out: [String: (String, Set<String>)] = [:]
        for url in SourceTree.files(under: "Sources/BioRNN/BioRNN.docc", extensions: [".md"]) {
            let lines = SourceTree.text(url).split(separator: "\n", omittingEmptySubsequences: false)
            let title = lines.first { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) } ?? ""
            // DocC anchors a heading by its text with spaces as hyphens.
            let anchors = lines.filter { $0.hasPrefix("## ") || $0.hasPrefix("### ") }
                .map { $0.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "-") }
            out[url.deletingPathExtension().lastPathComponent] = (title, Set(anchors))
        }
        return out
    }()

    /// The places that cite the documentation.
    static let citingFiles: [URL] =
        SourceTree.files(under: "Sources", extensions: [".swift", ".md", ".c", ".h"])
        + SourceTree.files(under: "Tests", extensions: [".swift"]).filter { !$0.path.hasSuffix("DocumentationTests.swift") }
        + [SourceTree.root.appendingPathComponent("README.md")]

    /// Every citation in `text`, as (form, target, anchor).
    static func citations(in text: String) -> [(form: String, target: String, anchor: String)] {
        SourceTree.captures(#"<doc:([A-Za-z0-9]+)(?:#([A-Za-z0-9-]+))?>"#, in: text).map { ("<doc:>", $0[1], $0[2]) }
            + SourceTree.captures(#"“([^”]+)” in the documentation"#, in: text).map { ("title", $0[1], "") }
            + SourceTree.captures(#"\bthe ([A-Z][A-Za-z]+) article\b"#, in: text).map { ("article", $0[1], "") }
            + SourceTree.captures(#"BioRNN\.docc/([A-Za-z0-9]+)\.md"#, in: text).map { ("link", $0[1], "") }
    }

    /// What is wrong with one citation, or nil when it lands.
    static func problem(_ c: (form: String, target: String, anchor: String)) -> String? {
        if c.form == "title" {
            return articles.values.contains { $0.title == c.target } ? nil : "no article is titled “\(c.target)”"
        }
        guard let article = articles[c.target] else { return "no article \(c.target).md" }
        if !c.anchor.isEmpty && !article.anchors.contains(c.anchor) { return "\(c.target).md has no heading \(c.anchor)" }
        return nil
    }

    @Test("the catalog has the articles the code relies on")
    func catalogArticles() {
        for name in ["BioRNN", "TheModel", "InitialConnectivity", "Tasks", "LearningRules", "LyapunovAnalysis", "GradientFlossing",
                     "TheStudy", "CommandLine", "FileFormats", "ValidatingALearningRule", "Numerics", "Performance", "Architecture"] {
            #expect(Self.articles[name] != nil, "missing article \(name).md")
        }
    }

    @Test("every citation in Sources, Tests and the README lands on an article (and heading)")
    func citationsLand() {
        var count = 0
        for file in Self.citingFiles {
            for c in Self.citations(in: SourceTree.text(file)) {
                count += 1
                if let why = Self.problem(c) { Issue.record("\(SourceTree.relative(file)): \(c.target)\(c.anchor.isEmpty ? "" : "#" + c.anchor): \(why)") }
            }
        }
        #expect(count >= 60, "found only \(count) citations: is the scan still reading the tree?")
    }

    @Test("a dangling citation is caught, in each form")
    func danglingIsCaught() {
        let text = "see <doc:NoSuchArticle>, <doc:TheModel#No-such-heading>, “No Such Title” in the documentation, the NoSuch article"
        let found = Self.citations(in: text)
        #expect(found.count == 4)
        #expect(found.allSatisfy { Self.problem($0) != nil }, "\(found.map { Self.problem($0) ?? "lands" })")
        #expect(Self.problem(("<doc:>", "TheModel", "Losses")) == nil)
    }

    @Test("the complete rule in “Validating a Learning Rule” is the tested file, verbatim, in under 60 lines")
    func exampleRuleIsTested() {
        let file = SourceTree.text(SourceTree.root.appendingPathComponent("Tests/LearningTests/FeedbackAlignmentThroughTime.swift"))
        let article = SourceTree.text(SourceTree.root.appendingPathComponent("Sources/BioRNN/BioRNN.docc/ValidatingALearningRule.md"))
        #expect(!file.isEmpty && file.split(separator: "\n", omittingEmptySubsequences: false).count <= 60)
        #expect(article.contains("```swift\n" + file + "```\n"), "the article's example rule differs from Tests/LearningTests/FeedbackAlignmentThroughTime.swift")
    }

    @Test("nothing cites the original specification outside the package")
    func noOutsideReference() {
        for file in Self.citingFiles {
            let text = SourceTree.text(file)
            #expect(!text.contains("design §"), "\(SourceTree.relative(file)) cites 'design §'")
            #expect(!text.contains("design.md"), "\(SourceTree.relative(file)) names design.md")
        }
    }
}
