import CKernels

/// A fixed group of compute threads (the caller is one of them) that runs the kernels' parallel
/// regions. Threads spin briefly between regions and then sleep, so a decode step's hundreds of
/// small regions cost microseconds each. One caller at a time: the engine's step thread owns it.
public final class WorkerPool: @unchecked Sendable {
    let raw: OpaquePointer
    /// Number of threads, the caller included.
    public let threads: Int

    public init(threads: Int) {
        self.threads = max(1, threads)
        raw = ck_pool_create(Int32(self.threads))
    }

    deinit { ck_pool_destroy(raw) }
}

/// Instruction sets the kernels can use; the best one the CPU has is picked at run time.
public enum InstructionSet: Int32, Sendable, CustomStringConvertible {
    case scalar = 0
    case avx2 = 1

    /// Best instruction set of this CPU.
    public static var detected: InstructionSet { InstructionSet(rawValue: ck_isa_detected()) ?? .scalar }
    /// Instruction set in use now.
    public static var active: InstructionSet { InstructionSet(rawValue: ck_isa_active()) ?? .scalar }
    /// Forces an instruction set for the calling thread (clamped to what the CPU has); nil
    /// restores detection.
    public static func force(_ isa: InstructionSet?) { ck_isa_force(isa?.rawValue ?? -1) }

    public var description: String { self == .avx2 ? "avx2+fma+f16c" : "scalar" }
}
