/// A unified diff (`diff -u` style, 3 lines of context) between two texts, for `stamgen check` and the
/// golden tests to show exactly what is stale.
public enum UnifiedDiff {
    public static func render(old: String, new: String, oldPath: String, newPath: String, context: Int = 3) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Edit script: for each line of the merged sequence, ' ', '-' or '+'.
        var script: [(kind: Character, text: String, oldLine: Int, newLine: Int)] = []
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in b.difference(from: a) {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count && removed.contains(i) {
                script.append(("-", a[i], i, j)); i += 1
            } else if j < b.count && inserted.contains(j) {
                script.append(("+", b[j], i, j)); j += 1
            } else {
                script.append((" ", i < a.count ? a[i] : "", i, j)); i += 1; j += 1
            }
        }
        let changed = script.indices.filter { script[$0].kind != " " }
        guard !changed.isEmpty else { return "" }
        // Group changes whose context windows touch into hunks.
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let window = max(0, index - context)...min(script.count - 1, index + context)
            if let last = hunks.last, window.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, window.upperBound)
            } else {
                hunks.append(window)
            }
        }
        var output = "--- \(oldPath)\n+++ \(newPath)\n"
        for hunk in hunks {
            let lines = script[hunk]
            let oldCount = lines.filter { $0.kind != "+" }.count
            let newCount = lines.filter { $0.kind != "-" }.count
            let first = script[hunk.lowerBound]
            output += "@@ -\(first.oldLine + (oldCount == 0 ? 0 : 1)),\(oldCount) +\(first.newLine + (newCount == 0 ? 0 : 1)),\(newCount) @@\n"
            for line in lines { output += "\(line.kind)\(line.text)\n" }
        }
        return output
    }
}
