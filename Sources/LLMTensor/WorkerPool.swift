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

    /// Runs `body(worker)` once on every thread of the pool at the same time (the caller is worker
    /// 0), for tensor-parallel workers that meet at a `Barrier`. Returns when all are done.
    public func runEach(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            var closure = escaping
            withUnsafeMutablePointer(to: &closure) { ptr in
                ck_pool_run_each(raw, { ctx, task, _ in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(task))
                }, ptr)
            }
        }
    }

    /// A pool of `required` threads pinned to their own CPUs (tensor-parallel workers), or of
    /// `threads` when the model does not need a fixed count.
    public static func forModel(required: Int?, threads: Int) -> WorkerPool {
        guard let required else { return WorkerPool(threads: threads) }
        let pool = WorkerPool(threads: required)
        pool.pin()
        return pool
    }

    /// Pins each thread to its own CPU (see ck_pool_pin); false when there are too few CPUs.
    @discardableResult
    public func pin() -> Bool { ck_pool_pin(raw) != 0 }
}

/// A reusable spinning barrier for a fixed number of threads (tensor-parallel all-reduce steps).
public final class Barrier: @unchecked Sendable {
    let raw: OpaquePointer

    public init(parties: Int) { raw = ck_barrier_create(Int32(max(1, parties))) }
    deinit { ck_barrier_destroy(raw) }

    /// Returns once every party has called it.
    @inline(__always) public func wait() { ck_barrier_wait(raw) }
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
