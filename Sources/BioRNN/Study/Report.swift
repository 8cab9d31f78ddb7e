import Foundation

/// The study report (`biornn report`, <doc:TheStudy>): report.md with summary tables (mean ± s.e.m. over seeds)
/// and figures rendered by gnuplot as PNG and SVG:
/// (a) final accuracy (or loss) against initial gain, one line per rule; (b) learning curves per
/// gain for each rule; (c) λ_max after training against before, one panel per rule, points
/// coloured by gain; (d) flossing's effect on the flossed rules, one panel per flossing variant,
/// with paired comparisons over seeds (95% confidence intervals, effect
/// sizes, and p-values Holm-adjusted over every flossing comparison of the study); (e) initial
/// gradient alignment of each local rule with BPTT against gain. Tables also give learning speed
/// (iterations to criterion, learning-curve area) and, per gain, the fraction of initial networks
/// whose λ_max is positive, with (f) learning speed against gain.
public enum Report {
    /// From the run directories under `dir` (collected into results.csv and curves.csv first), or,
    /// when there are none, from `dir`/results.csv (and curves.csv) alone.
    public static func write(_ dir: String, gnuplot: String = "gnuplot") throws {
        let results = (dir as NSString).appendingPathComponent("results.csv")
        var records = try Collector.read(dir)
        if records.isEmpty, FileManager.default.fileExists(atPath: results) {
            records = try Collector.read(results: results, curves: (dir as NSString).appendingPathComponent("curves.csv"))
        } else {
            try Collector.write(records, to: dir)
        }
        guard !records.isEmpty else { throw InputError("\(dir): no complete runs to report") }
        let figures = (dir as NSString).appendingPathComponent("figures")
        try? FileManager.default.createDirectory(atPath: figures, withIntermediateDirectories: true)
        var md = "# BioRNN study report\n\n\(records.count) runs (\(records.filter { $0.status == "completed" }.count) completed). "
        md += "Values are means ± s.e.m. over seeds (n in parentheses: the runs with a finite value); λ_max is per step, "
        md += "measured driven by the task. A λ_max is missing (–) when the measured trajectory overflowed: activity that grows "
        md += "without bound, as relu networks can.\n\n"
        // Holm's adjustment runs over every flossing comparison of the study, all tasks together.
        let isXent = { (task: String) in records.contains { $0.task == task && $0.finalAccuracy != nil } }
        let allPaired = Array(Set(records.map(\.task))).sorted().flatMap { task in
            StudyStatistics.pairedFlossingEffect(records.filter { $0.task == task }, metric: { isXent(task) ? $0.finalAccuracy : $0.finalLoss })
        }
        let verdicts = StudyStatistics.verdicts(allPaired) { isXent($0.task) }
        if !allPaired.isEmpty {
            md += "Flossing comparisons: \(allPaired.count), each a paired t test over seeds; p-values are Holm-adjusted over all "
            md += "\(allPaired.count) (family-wise α = 0.05), and a verdict says helps or hurts only when the adjusted p is below 0.05.\n\n"
        }
        for task in Array(Set(records.map(\.task))).sorted() {
            let runs = records.filter { $0.task == task }
            let xent = runs.contains { $0.finalAccuracy != nil }
            let metricName = xent ? "final accuracy" : "final loss"
            let metric: (RunRecord) -> Double? = { xent ? $0.finalAccuracy : $0.finalLoss }
            md += "## \(task)\n\n"
            let plain = runs.filter { $0.floss == "none" }
            // (a)
            let a = StudyStatistics.groups(plain, metric: metric)
            md += table(a, title: metricName)
            // Learning speed, and the dynamical regime of the initial networks.
            md += table(StudyStatistics.groups(plain, metric: { $0.iterationsToCriterion }), title: "iterations to criterion (runs that reached it)")
            md += table(StudyStatistics.groups(plain, metric: { $0.learningCurveArea }),
                        title: "learning-curve area (mean held-out \(xent ? "accuracy" : "loss") over training; \(xent ? "higher" : "lower") is faster)")
            md += chaoticFractions(plain)
            try plot(figures, "a-\(task)", title: "\(task): \(metricName) vs initial gain", ylabel: metricName,
                     lines: Dictionary(grouping: a) { "\($0.rule) (\($0.initFamily))" }.mapValues { g in g.map { ($0.gain, $0.mean, $0.sem) } }, gnuplot: gnuplot)
            // (b) learning curves: one figure per rule, one line per gain, mean ± s.e.m. over seeds.
            var curveFigures: [String] = []
            for (rule, ruleRuns) in Dictionary(grouping: plain, by: \.rule).sorted(by: { $0.key < $1.key }) {
                var curves: [String: [(Double, Double, Double)]] = [:]
                for (gain, runs) in Dictionary(grouping: ruleRuns, by: \.gain) {
                    let iterations = runs.first?.curve.map(\.iteration) ?? []
                    curves["g = \(JSONValue.format(gain))"] = iterations.enumerated().map { i, it in
                        let v = runs.compactMap { r in i < r.curve.count ? (xent ? r.curve[i].accuracy : r.curve[i].loss) : nil }
                        let s = meanAndSEM(v)
                        return (Double(it), s.mean, s.sem.isFinite ? s.sem : 0)
                    }
                }
                let name = "b-\(task)-\(rule.replacingOccurrences(of: ":", with: "-"))"
                try plot(figures, name, title: "\(task), \(rule): learning curves (held-out \(xent ? "accuracy" : "loss"))",
                         ylabel: xent ? "accuracy" : "loss", xlabel: "iteration", lines: curves, gnuplot: gnuplot)
                curveFigures.append(name)
            }
            // (c)
            let before = StudyStatistics.groups(plain, metric: { $0.lambdaBeforeDriven })
            let after = StudyStatistics.groups(plain, metric: { $0.lambdaAfterDriven })
            md += table(before, title: "λ_max before training") + table(after, title: "λ_max after training")
            // One panel per rule: every run's λ_max after training against before, coloured by gain.
            let scatter = Dictionary(grouping: plain, by: { "\($0.rule) (\($0.initFamily))" }).sorted { $0.key < $1.key }.map { label, runs in
                Panel.points(title: label, runs.compactMap { r in r.lambdaBeforeDriven.flatMap { b in r.lambdaAfterDriven.map { (b, $0, r.gain) } } })
            }
            try plot(figures, "c-\(task)", title: "\(task): λ_max after training against before (driven; the diagonal: no change)",
                     ylabel: "λ_max after (per step)", xlabel: "λ_max before (per step)", panels: scatter, gnuplot: gnuplot)
            // Learning speed against gain, one line per rule.
            let speed = StudyStatistics.groups(plain, metric: { $0.learningCurveArea })
            try plot(figures, "f-\(task)", title: "\(task): learning speed (learning-curve area) vs initial gain",
                     ylabel: "mean held-out \(xent ? "accuracy" : "loss") over training",
                     lines: Dictionary(grouping: speed) { "\($0.rule) (\($0.initFamily))" }.mapValues { g in g.map { ($0.gain, $0.mean, $0.sem) } }, gnuplot: gnuplot)
            // (d)
            let flossedRules = Set(runs.filter { $0.floss != "none" }.map(\.rule))
            if !flossedRules.isEmpty {
                let d = StudyStatistics.groups(runs.filter { flossedRules.contains($0.rule) }, metric: metric)
                md += table(d, title: "\(metricName) with and without flossing")
                md += "Paired effect of flossing on \(metricName) (flossed − unflossed, same seed):\n\n"
                md += "| rule | init | flossing | gain | mean difference [95% CI] | d_z | p | Holm p | verdict | pairs |\n|---|---|---|---|---|---|---|---|---|---|\n"
                for (p, v) in zip(allPaired, verdicts) where p.task == task {
                    let c = p.comparison
                    md += "| \(p.rule) | \(p.initFamily) | \(p.floss) | \(JSONValue.format(p.gain)) | \(fmt(c.mean)) [\(fmt(c.lower)), \(fmt(c.upper))] | \(fmt(c.effectSize)) "
                    md += "| \(fmt(c.p)) | \(fmt(v.adjustedP)) | \(v.verdict.rawValue) | \(c.n) |\n"
                }
                md += "\n"
                // One panel per flossing variant: the paired effect with its 95% interval, per rule.
                let effects = Dictionary(grouping: allPaired.filter { $0.task == task }, by: \.floss).sorted { $0.key < $1.key }.map { variant, pairs in
                    Panel.lines(title: variant, Dictionary(grouping: pairs) { "\($0.rule) (\($0.initFamily))" }.mapValues { ps in
                        ps.map { p in let c = p.comparison; return (p.gain, c.mean, (c.upper - c.lower) / 2) }
                    })
                }
                try plot(figures, "d-\(task)", title: "\(task): effect of flossing on \(metricName) (flossed − unflossed, mean and 95% interval)",
                         ylabel: "difference in \(metricName)", panels: effects, gnuplot: gnuplot)
            }
            // (e)
            let e = StudyStatistics.groups(plain.filter { $0.rule != "bptt" }, metric: { $0.initialAlignment })
            if !e.isEmpty {
                md += table(e, title: "cosine of the initial W_rec gradient with BPTT's")
                try plot(figures, "e-\(task)", title: "\(task): gradient alignment with BPTT at initialisation", ylabel: "cosine (W_rec)",
                         lines: Dictionary(grouping: e, by: \.rule).mapValues { g in g.map { ($0.gain, $0.mean, $0.sem) } }, gnuplot: gnuplot)
            }
            for fig in ["a-\(task)", "f-\(task)"] + curveFigures + ["c-\(task)", "d-\(task)", "e-\(task)"] where FileManager.default.fileExists(atPath: "\(figures)/\(fig).png") {
                md += "![\(fig)](figures/\(fig).png)\n\n"
            }
        }
        try AtomicFile.write(md, to: (dir as NSString).appendingPathComponent("report.md"))
    }

    static func fmt(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "–" }

    /// Per initial family and gain, the fraction of initial networks whose λ_max before training
    /// is positive, autonomous and driven. Runs of one seed share their initial network whatever
    /// the rule, so each seed counts once.
    static func chaoticFractions(_ runs: [RunRecord]) -> String {
        var seen = Set<String>()
        let runs = runs.sorted { $0.run < $1.run }.filter { seen.insert("\($0.initFamily)|\($0.gain)|\($0.seed)").inserted }
        var s = "fraction of initial networks with λ_max > 0 (autonomous / driven):\n\n| init | gain | autonomous | driven | networks |\n|---|---|---|---|---|\n"
        for ((family, gain), group) in Dictionary(grouping: runs, by: { FamilyGain(family: $0.initFamily, gain: $0.gain) }).map({ (($0.key.family, $0.key.gain), $0.value) })
            .sorted(by: { ($0.0.0, $0.0.1) < ($1.0.0, $1.0.1) }) {
            func fraction(_ values: [Double?]) -> String {
                let known = values.compactMap { $0 }.filter(\.isFinite)
                return known.isEmpty ? "–" : String(format: "%.2f", Double(known.filter { $0 > 0 }.count) / Double(known.count))
            }
            s += "| \(family) | \(JSONValue.format(gain)) | \(fraction(group.map(\.lambdaBeforeAutonomous))) | \(fraction(group.map(\.lambdaBeforeDriven))) | \(group.count) |\n"
        }
        return s + "\n"
    }

    struct FamilyGain: Hashable { let family: String; let gain: Double }

    static func table(_ groups: [StudyStatistics.Group], title: String) -> String {
        let gains = Array(Set(groups.map(\.gain))).sorted()
        var s = "\(title):\n\n| rule | init | flossing | " + gains.map { "g = \(JSONValue.format($0))" }.joined(separator: " | ") + " |\n"
        s += "|---|---|---|" + gains.map { _ in "---" }.joined(separator: "|") + "|\n"
        for (key, g) in Dictionary(grouping: groups, by: { "\($0.rule)|\($0.initFamily)|\($0.floss)" }).sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|")
            s += "| \(parts[0]) | \(parts[1]) | \(parts[2]) | " + gains.map { gain in
                g.first { $0.gain == gain }.map { "\(fmt($0.mean)) ± \(fmt($0.sem)) (\($0.n))" } ?? ""
            }.joined(separator: " | ") + " |\n"
        }
        return s + "\n"
    }

    /// One line of a figure: (x, value, error bar) points.
    typealias Line = [(Double, Double, Double)]

    /// One panel of a figure: lines with error bars, or points (x, y, colour value) with the
    /// diagonal y = x drawn for reference.
    enum Panel {
        case lines(title: String, [String: Line])
        case points(title: String, [(Double, Double, Double)])
    }

    /// A single-panel figure of lines with error bars.
    static func plot(_ dir: String, _ name: String, title: String, ylabel: String, xlabel: String = "initial gain g",
                     lines: [String: Line], gnuplot: String) throws {
        guard !lines.isEmpty else { return }
        try plot(dir, name, title: title, ylabel: ylabel, xlabel: xlabel, panels: [.lines(title: "", lines)], gnuplot: gnuplot)
    }

    /// Writes one data file per line or panel and renders the panels side by side (gnuplot
    /// multiplot), as PNG and SVG. `colour` labels the points' colour scale.
    static func plot(_ dir: String, _ name: String, title: String, ylabel: String, xlabel: String = "initial gain g",
                     colour: String = "initial gain g", panels: [Panel], gnuplot: String) throws {
        guard !panels.isEmpty else { return }
        var body = ""
        for (p, panel) in panels.enumerated() {
            switch panel {
            case let .lines(panelTitle, lines):
                var plots: [String] = []
                for (i, (label, points)) in lines.sorted(by: { $0.key < $1.key }).enumerated() {
                    let file = "\(dir)/\(name)-\(p)-\(i).dat"
                    try AtomicFile.write(points.sorted { $0.0 < $1.0 }.map { "\($0.0) \($0.1) \($0.2.isFinite ? $0.2 : 0)" }.joined(separator: "\n") + "\n", to: file)
                    plots.append("'\(file)' using 1:2:3 with yerrorlines title '\(label.replacingOccurrences(of: "'", with: ""))'")
                }
                body += "set title '\(panelTitle)' noenhanced\nunset colorbox\nplot " + plots.joined(separator: ", ") + "\n"
            case let .points(panelTitle, points):
                let file = "\(dir)/\(name)-\(p).dat"
                try AtomicFile.write(points.filter { $0.0.isFinite && $0.1.isFinite }.map { "\($0.0) \($0.1) \($0.2)" }.joined(separator: "\n") + "\n", to: file)
                body += "set title '\(panelTitle)' noenhanced\nset colorbox\nset cblabel '\(colour)' noenhanced\n"
                body += "plot '\(file)' using 1:2:3 with points pt 7 ps 1.2 palette notitle, x with lines lc rgb 'gray' dt 2 notitle\n"
            }
        }
        let columns = min(panels.count, 3), rows = (panels.count + columns - 1) / columns
        // 5% margins above and below, so that lines on the data's edge (accuracy 1) stay visible.
        let setup = "set xlabel '\(xlabel)' noenhanced\nset ylabel '\(ylabel)' noenhanced\nset key outside right noenhanced\nset grid\n"
            + "set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\nset palette rgbformulae 33,13,10\n"
        var script = setup
        // Rendered under temporary names and renamed into place, like every other output.
        let formats = [("pngcairo", "png"), ("svg", "svg")]
        for (terminal, ext) in formats {
            script += "set terminal \(terminal) size \(500 * columns + 500),\(420 * rows + 60)\nset output '\(dir)/.\(name).\(ext).partial'\n"
            script += "set multiplot layout \(rows),\(columns) title '\(title)' noenhanced\n" + body + "unset multiplot\n"
        }
        script += "unset output\n"
        let scriptPath = "\(dir)/\(name).gp"
        try AtomicFile.write(script, to: scriptPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [gnuplot, scriptPath]
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw InputError("gnuplot: cannot run it (install gnuplot-nox)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw InputError("gnuplot: failed on \(scriptPath)") }
        for (_, ext) in formats where rename("\(dir)/.\(name).\(ext).partial", "\(dir)/\(name).\(ext)") != 0 {
            throw InputError("\(dir)/\(name).\(ext): cannot write file")
        }
    }
}
