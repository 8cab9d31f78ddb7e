/// The one message for a name that is not among the known ones, with the nearest known name
/// suggested when it is close: `unknown rule 'epro' (did you mean 'eprop'? known: bptt, …)`.
public func unknownName(_ value: String, kind: String, known: [String]) -> String {
    let list = known.joined(separator: ", ")
    guard let nearest = nearestName(to: value, among: known) else { return "unknown \(kind) '\(value)' (known: \(list))" }
    return "unknown \(kind) '\(value)' (did you mean '\(nearest)'? known: \(list))"
}

/// The known name with the smallest edit distance to `value`, if that distance is at most a
/// third of the longer name (at least 1) — close enough to be a typo, not a different word. A
/// known name that `value` starts or ends (`ep` for `eprop`) counts as close.
func nearestName(to value: String, among known: [String]) -> String? {
    let v = value.lowercased()
    var best: (name: String, distance: Int)?
    for name in known {
        let d = editDistance(v, name.lowercased())
        if d < (best?.distance ?? .max) { best = (name, d) }
    }
    guard let best, !value.isEmpty else { return nil }
    if best.distance <= max(1, max(value.count, best.name.count) / 3) { return best.name }
    return known.first { $0.lowercased().hasPrefix(v) && v.count >= 2 }
}

/// Levenshtein distance: the fewest insertions, deletions and substitutions that turn a into b,
/// by the usual dynamic programme over one row.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = previous + (a[i - 1] == b[j - 1] ? 0 : 1)
            previous = row[j]
            row[j] = min(substitution, row[j] + 1, row[j - 1] + 1)
        }
    }
    return a.isEmpty ? b.count : row[b.count]
}
