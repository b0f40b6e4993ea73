import LLMTensor

/// Looks up a model's tensors by name, checking shapes and types, and remembers which were used so
/// that unexpected tensors fail loading loudly instead of being silently ignored.
struct WeightLoader {
    let gguf: GGUFFile
    private(set) var used: Set<String> = []

    init(gguf: GGUFFile) { self.gguf = gguf }

    /// A weight matrix with `rows` outputs and `cols` inputs (GGUF dims [cols, rows]).
    mutating func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
        let t = try gguf.tensor(name)
        guard t.dims == [cols, rows] else { throw .badTensorShape(tensor: name, expected: [cols, rows], found: t.dims) }
        used.insert(name)
        return WeightMatrix(type: t.type, rows: rows, cols: cols, data: gguf.data(t))
    }

    /// The `count` matrices of a 3-D expert tensor (GGUF dims [cols, rows, count]), each
    /// `rows` outputs by `cols` inputs.
    mutating func experts(_ name: String, count: Int, rows: Int, cols: Int) throws(ModelError) -> [WeightMatrix] {
        let t = try gguf.tensor(name)
        guard t.dims == [cols, rows, count] else {
            throw .badTensorShape(tensor: name, expected: [cols, rows, count], found: t.dims)
        }
        used.insert(name)
        let base = gguf.data(t)
        let m = WeightMatrix(type: t.type, rows: rows, cols: cols, data: base)
        return (0..<count).map { WeightMatrix(type: t.type, rows: rows, cols: cols, data: base + $0 * rows * m.rowBytes) }
    }

    /// An F32 vector (norm weights).
    mutating func vector(_ name: String, count: Int) throws(ModelError) -> UnsafePointer<Float> {
        let t = try gguf.tensor(name)
        guard t.dims == [count] else { throw .badTensorShape(tensor: name, expected: [count], found: t.dims) }
        guard t.type == .f32 else { throw .unsupportedTensorType(tensor: name, type: "\(t.type) (norm weights must be F32)") }
        used.insert(name)
        return gguf.data(t).assumingMemoryBound(to: Float.self)
    }

    /// Throws for the first tensor in the file that the architecture did not use.
    func rejectUnused() throws(ModelError) {
        if let extra = gguf.tensorNames.first(where: { !used.contains($0) }) {
            throw .format("unexpected tensor '\(extra)' for architecture '\((try? gguf.string("general.architecture")) ?? "?")'")
        }
    }
}
