import Foundation
import LLMTensor

/// Weight bytes a tensor-parallel worker owns outright: column slices copied out of the mapped
/// file (rows slices point into the mapping). Freed with the model.
final class WeightArena: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawPointer] = []

    deinit { for b in buffers { b.deallocate() } }

    /// Rows `r` of `w` (no copy).
    static func rows(_ w: WeightMatrix, _ r: Range<Int>) -> WeightMatrix {
        WeightMatrix(type: w.type, rows: r.count, cols: w.cols, data: w.data + r.lowerBound * w.rowBytes)
    }

    /// Columns `r` of `w`, copied (each row's blocks from r.lowerBound to r.upperBound).
    func columns(_ w: WeightMatrix, _ r: Range<Int>, name: String) throws(ModelError) -> WeightMatrix {
        let bs = w.type.blockSize
        guard r.lowerBound % bs == 0, r.upperBound % bs == 0 || r.upperBound == w.cols,
              let start = w.type.byteCount(elements: r.lowerBound), let bytes = w.type.byteCount(elements: r.count) else {
            throw .parallelism("tensor '\(name)' (\(w.type)) cannot be cut at columns \(r) (blocks of \(bs))")
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, w.rows * bytes), alignment: 64)
        buffers.append(buffer)
        for row in 0..<w.rows {
            (buffer + row * bytes).copyMemory(from: w.row(row) + start, byteCount: bytes)
        }
        return WeightMatrix(type: w.type, rows: w.rows, cols: r.count, data: UnsafeRawPointer(buffer))
    }
}

extension WeightMatrix {
    /// Bytes of the whole matrix.
    var byteCount: Int { rows * rowBytes }
}
