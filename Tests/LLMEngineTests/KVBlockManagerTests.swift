import LLMEngine
import LLMModel
import Testing

@Suite("Paged KV cache and prefix caching")
struct KVBlockManagerTests {
    static let config = EngineTests.model.model.config

    func manager(blocks: Int, caching: Bool = true) -> KVBlockManager {
        KVBlockManager(storage: KVBlockStorage(config: Self.config, blockSize: 4, blockCount: blocks), prefixCaching: caching)
    }

    @Test("full prompt blocks are shared by a later request with the same prefix")
    func sharing() throws {
        let m = manager(blocks: 16)
        let prompt = Array(0..<13)  // 3 full blocks of 4 + 1
        let a = try #require(m.reserve(prompt: prompt, positions: 20))
        #expect(a.cachedPositions == 0 && a.blocks.count == 5)
        let cache = KVCache(storage: m.storage, blocks: a.blocks)
        #expect(m.register(cache, hashes: a.hashes, computed: 13, from: 0) == 3)
        let b = try #require(m.reserve(prompt: prompt + [99, 98], positions: 20))
        #expect(b.cachedPositions == 12 && Array(b.blocks.prefix(3)) == Array(a.blocks.prefix(3)))
        #expect(Set(b.blocks.suffix(2)).isDisjoint(with: Set(a.blocks)))
        // A different prefix shares nothing.
        let c = try #require(m.reserve(prompt: [7] + prompt, positions: 8))
        #expect(c.cachedPositions == 0)
    }

    @Test("a prompt that is entirely cached still leaves its last token to compute")
    func lastTokenComputed() throws {
        let m = manager(blocks: 8)
        let prompt = Array(0..<8)
        let a = try #require(m.reserve(prompt: prompt, positions: 8))
        _ = m.register(KVCache(storage: m.storage, blocks: a.blocks), hashes: a.hashes, computed: 8, from: 0)
        let b = try #require(m.reserve(prompt: prompt, positions: 12))
        #expect(b.cachedPositions == 4)
    }

    @Test("released cached blocks stay reusable until free blocks run out, then the oldest is evicted")
    func eviction() throws {
        let m = manager(blocks: 4)
        let p1 = Array(0..<9), p2 = Array(100..<109)
        let a = try #require(m.reserve(prompt: p1, positions: 9))   // 3 blocks
        let ca = KVCache(storage: m.storage, blocks: a.blocks)
        _ = m.register(ca, hashes: a.hashes, computed: 9, from: 0)
        #expect(m.reserve(prompt: p2, positions: 9) == nil)          // only 1 block free
        m.release(ca)
        #expect(m.availableBlocks == 4 && m.cachedBlocks == 2)
        let again = try #require(m.reserve(prompt: p1, positions: 9))
        #expect(again.cachedPositions == 8)                           // still cached
        m.release(KVCache(storage: m.storage, blocks: again.blocks))
        let b = try #require(m.reserve(prompt: p2, positions: 16))   // needs all 4: evicts both cached
        #expect(b.cachedPositions == 0 && m.cachedBlocks == 0 && m.availableBlocks == 0)
    }

    @Test("without prefix caching nothing is shared")
    func disabled() throws {
        let m = manager(blocks: 8, caching: false)
        let a = try #require(m.reserve(prompt: Array(0..<9), positions: 9))
        _ = m.register(KVCache(storage: m.storage, blocks: a.blocks), hashes: a.hashes, computed: 9, from: 0)
        #expect(m.reserve(prompt: Array(0..<9), positions: 9)?.cachedPositions == 0)
    }
}
