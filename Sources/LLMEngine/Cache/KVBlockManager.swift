import LLMModel

/// Hands out the blocks of a paged KV cache to sequences (engine thread only).
///
/// Prefix caching: every full block of a prompt gets a hash chained over all tokens before it.
/// Once a sequence has computed such a block it is registered under that hash, and a later
/// request whose prompt starts with the same tokens reuses the block instead of recomputing it
/// (reference-counted, read-only: sequences only append after their shared prefix). Blocks that no
/// sequence uses stay cached until free blocks run out; then the least recently used is evicted.
public final class KVBlockManager {
    public let storage: KVBlockStorage
    public let prefixCaching: Bool
    public var blockSize: Int { storage.blockSize }

    private var freeBlocks: [Int32]
    private var refs: [Int32]
    private var hashOf: [UInt64]
    private var blockFor: [UInt64: Int32] = [:]
    private var lastUse: [UInt64]
    private var evictable: Set<Int32> = []
    private var tick: UInt64 = 0

    public init(storage: KVBlockStorage, prefixCaching: Bool) {
        self.storage = storage
        self.prefixCaching = prefixCaching
        let n = storage.blockCount
        freeBlocks = (0..<Int32(n)).reversed()
        refs = Array(repeating: 0, count: n)
        hashOf = Array(repeating: 0, count: n)
        lastUse = Array(repeating: 0, count: n)
    }

    /// Blocks no running sequence holds (free, or cached and evictable).
    public var availableBlocks: Int { freeBlocks.count + evictable.count }
    /// Blocks held by running sequences, as a fraction of all.
    public var usage: Double { Double(storage.blockCount - availableBlocks) / Double(storage.blockCount) }
    /// Blocks kept for prefix reuse (held or not).
    public var cachedBlocks: Int { blockFor.count }

    /// A reservation: the block table and how many prompt positions it already holds.
    public struct Reservation {
        public var blocks: [Int32]
        public var cachedPositions: Int
        public var hashes: [UInt64]
    }

    /// Reserves blocks for `positions` positions of a sequence with this prompt, reusing cached
    /// prefix blocks; nil when not enough blocks are available now.
    public func reserve(prompt: [Int], positions: Int) -> Reservation? {
        let total = (positions + blockSize - 1) / blockSize
        let hashes = prefixCaching ? Self.blockHashes(prompt, blockSize: blockSize) : []
        // At least one prompt token is always computed (its logits start generation).
        let shareable = prefixCaching ? min(hashes.count, (prompt.count - 1) / blockSize) : 0
        var matched: [Int32] = []
        for k in 0..<shareable {
            guard let b = blockFor[hashes[k]] else { break }
            matched.append(b)
        }
        let reclaimed = matched.reduce(0) { $0 + (refs[Int($1)] == 0 ? 1 : 0) }
        guard availableBlocks - reclaimed >= total - matched.count else { return nil }
        tick += 1
        for b in matched {
            if refs[Int(b)] == 0 { evictable.remove(b) }
            refs[Int(b)] += 1
            lastUse[Int(b)] = tick
        }
        var blocks = matched
        for _ in matched.count..<total {
            let b = freeBlocks.popLast() ?? evictOldest()
            refs[Int(b)] = 1
            blocks.append(b)
        }
        return Reservation(blocks: blocks, cachedPositions: matched.count * blockSize, hashes: hashes)
    }

    /// Registers the sequence's full prompt blocks below `computed` positions for reuse.
    @discardableResult
    public func register(_ cache: KVCache, hashes: [UInt64], computed: Int, from first: Int) -> Int {
        guard prefixCaching else { return first }
        let full = min(hashes.count, computed / blockSize)
        guard full > first else { return first }
        for k in first..<full {
            let b = cache.blocks[k]
            if hashOf[Int(b)] == 0 && blockFor[hashes[k]] == nil {
                hashOf[Int(b)] = hashes[k]
                blockFor[hashes[k]] = b
            }
        }
        return full
    }

    /// Gives a finished sequence's blocks back: cached ones become evictable, others free.
    public func release(_ cache: KVCache) {
        tick += 1
        for i in 0..<cache.blockCount {
            let b = cache.blocks[i]
            refs[Int(b)] -= 1
            guard refs[Int(b)] == 0 else { continue }
            if hashOf[Int(b)] != 0 {
                evictable.insert(b)
                lastUse[Int(b)] = tick
            } else {
                freeBlocks.append(b)
            }
        }
    }

    private func evictOldest() -> Int32 {
        let b = evictable.min { lastUse[Int($0)] < lastUse[Int($1)] }!
        evictable.remove(b)
        blockFor[hashOf[Int(b)]] = nil
        hashOf[Int(b)] = 0
        return b
    }

    /// Chained hashes of the prompt's full blocks: block k's hash covers tokens 0 ..< (k+1)*size.
    static func blockHashes(_ prompt: [Int], blockSize: Int) -> [UInt64] {
        var out: [UInt64] = []
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for k in 0..<(prompt.count / blockSize) {
            for t in prompt[(k * blockSize)..<((k + 1) * blockSize)] {
                h = mix(h ^ UInt64(bitPattern: Int64(t)))
            }
            out.append(h == 0 ? 1 : h)
        }
        return out
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
