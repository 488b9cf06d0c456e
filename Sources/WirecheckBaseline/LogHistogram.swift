import Foundation

/// A mergeable sketch of positive values: counts in logarithmic bins whose width is 2 % of
/// their value, so quantiles read from it are within about 1 % of the exact ones. Two
/// sketches merge by adding bins, which is how a baseline learned from several captures
/// combines its timing statistics without keeping every sample.
public struct LogHistogram: Equatable, Sendable {
    /// Ratio between the bounds of a bin; 1.02 keeps the relative error near 1 %.
    static let gamma = 1.02
    static let logGamma = log(gamma)
    /// Values below this (1 ms for intervals, well under one request per minute for rates) share the lowest bin.
    static let minimumValue = 0.001
    /// The bins a sketch may hold. From 1 ms to 1 day is about 920 bins, so this bound is
    /// reached only by values that are not intervals or per-minute counts at all.
    static let maxBins = 2048

    /// Bins a file may name: from the 1 ms floor up to about 1.6e17, so every representative is finite.
    static let validBins = -400...2000

    /// Bin index to number of values in it.
    public private(set) var bins: [Int: UInt64] = [:]
    public private(set) var count: UInt64 = 0

    public init() {}

    init(bins: [Int: UInt64]) {
        self.bins = bins
        self.count = bins.values.reduce(0, &+)
    }

    static func binIndex(_ value: Double) -> Int {
        let clamped = value.isFinite ? max(value, minimumValue) : minimumValue
        return Int((log(clamped) / logGamma).rounded(.down))
    }

    /// The value a bin stands for: its geometric middle.
    static func representative(_ index: Int) -> Double {
        exp((Double(index) + 0.5) * logGamma)
    }

    public mutating func add(_ value: Double, times: UInt64 = 1) {
        let index = LogHistogram.binIndex(value)
        if bins[index] == nil && bins.count >= LogHistogram.maxBins { return }
        bins[index, default: 0] &+= times
        count &+= times
    }

    public mutating func merge(_ other: LogHistogram) {
        for (index, times) in other.bins {
            if bins[index] == nil && bins.count >= LogHistogram.maxBins { continue }
            bins[index, default: 0] &+= times
            count &+= times
        }
    }

    /// The value at quantile `q` (0...1), or nil when the sketch is empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = UInt64((Double(count - 1) * min(max(q, 0), 1)).rounded(.down))
        var seen: UInt64 = 0
        for index in bins.keys.sorted() {
            seen &+= bins[index] ?? 0
            if seen > rank { return LogHistogram.representative(index) }
        }
        return nil
    }

    public var median: Double? { quantile(0.5) }

    /// Median absolute deviation from the median, computed over bin representatives.
    public var medianAbsoluteDeviation: Double? {
        guard let center = median else { return nil }
        let deviations = bins.map { (abs(LogHistogram.representative($0.key) - center), $0.value) }
            .sorted { $0.0 < $1.0 }
        let rank = (count - 1) / 2
        var seen: UInt64 = 0
        for (deviation, times) in deviations {
            seen &+= times
            if seen > rank { return deviation }
        }
        return nil
    }

    /// Bins in index order, for files.
    var sortedBins: [(Int, UInt64)] { bins.keys.sorted().map { ($0, bins[$0] ?? 0) } }
}

/// Median of a small sample; the detector's window contains at most a few dozen values.
func sampleMedian(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
