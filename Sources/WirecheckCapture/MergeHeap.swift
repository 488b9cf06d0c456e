/// A binary min-heap of reader indices keyed by each reader's current packet time, for the k-way
/// merge of several files.
///
/// Ties on time go to the lower reader index, which is the order the files were given in, so
/// the merged order is stable and the same on every run.
struct MergeHeap {
    private var keys: [Int64] = []
    private var indices: [Int] = []

    init(capacity: Int) {
        keys.reserveCapacity(capacity)
        indices.reserveCapacity(capacity)
    }

    var isEmpty: Bool { indices.isEmpty }

    /// The reader index with the earliest packet, or nil when every reader has ended.
    var minimum: Int? { indices.first }

    mutating func insert(key: Int64, index: Int) {
        keys.append(key)
        indices.append(index)
        siftUp(from: indices.count - 1)
    }

    /// Gives the minimum reader a new key after it advanced to its next packet.
    mutating func replaceMinimumKey(_ key: Int64) {
        guard !indices.isEmpty else { return }
        keys[0] = key
        siftDown(from: 0)
    }

    mutating func removeMinimum() {
        guard !indices.isEmpty else { return }
        let last = indices.count - 1
        keys.swapAt(0, last)
        indices.swapAt(0, last)
        keys.removeLast()
        indices.removeLast()
        if !indices.isEmpty {
            siftDown(from: 0)
        }
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        keys[a] != keys[b] ? keys[a] < keys[b] : indices[a] < indices[b]
    }

    private mutating func swapEntries(_ a: Int, _ b: Int) {
        keys.swapAt(a, b)
        indices.swapAt(a, b)
    }

    private mutating func siftUp(from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { return }
            swapEntries(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        let count = indices.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            let right = left + 1
            let smaller = right < count && precedes(right, left) ? right : left
            guard precedes(smaller, parent) else { return }
            swapEntries(smaller, parent)
            parent = smaller
        }
    }
}
