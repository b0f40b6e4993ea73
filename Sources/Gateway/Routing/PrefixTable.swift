/// Which replica last served each prompt-prefix block hash: an approximate LRU in two generations
/// (when the young one fills, it becomes the old one and the oldest entries go), O(1) per lookup.
struct PrefixTable: Sendable {
    private var young: [UInt64: String] = [:]
    private var old: [UInt64: String] = [:]
    let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = max(2, capacity)
    }

    /// The replica URL holding the longest cached prefix of `hashes`, and how many blocks match.
    func longestMatch(_ hashes: [UInt64]) -> (url: String, blocks: Int)? {
        for i in stride(from: hashes.count - 1, through: 0, by: -1) {
            if let url = young[hashes[i]] ?? old[hashes[i]] { return (url, i + 1) }
        }
        return nil
    }

    /// Records that `url` now holds every prefix in `hashes`.
    mutating func record(_ hashes: [UInt64], url: String) {
        for h in hashes {
            young[h] = url
        }
        if young.count >= capacity / 2 {
            old = young
            young = [:]
        }
    }

    /// Forgets a replica (removed from the pool).
    mutating func forget(_ url: String) {
        young = young.filter { $0.value != url }
        old = old.filter { $0.value != url }
    }

    var count: Int { young.count + old.count }
}
