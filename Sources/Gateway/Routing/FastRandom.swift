import Synchronization

/// A lock-free pseudo-random generator for routing choices (SplitMix64 over an atomic counter).
/// The system generator makes a `getrandom` system call per number on Linux, which showed in the
/// proxy's profile; routing needs spread, not secrecy.
struct FastRandom: RandomNumberGenerator, Sendable {
    private static let state = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    mutating func next() -> UInt64 {
        var z = Self.state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
