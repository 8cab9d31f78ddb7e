/// The one rule for a name a user chooses that becomes part of a file or directory name (a
/// flossing variant's name, and so a run directory's): 1 to 64 characters from
/// `A–Z a–z 0–9 . _ -`, not starting with a dot (so never `.`, `..` or a hidden file). A name that
/// passes cannot hold a path separator or climb out of its output directory.
public enum SafeName {
    public static let maxLength = 64

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maxLength && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { $0.isASCII && (isASCIIAlphanumeric($0) || "._-".unicodeScalars.contains($0)) }
    }

    /// Throws `"<field>: 'name' cannot be part of a path: …"` for a name that breaks the rule.
    public static func check(_ name: String, field: String) throws {
        guard isValid(name) else {
            throw InputError("\(field): '\(name)' cannot be part of a path: use 1–\(maxLength) characters from A–Z a–z 0–9 . _ -, not starting with a dot")
        }
    }
}

/// ASCII letters and digits.
private func isASCIIAlphanumeric(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
}
