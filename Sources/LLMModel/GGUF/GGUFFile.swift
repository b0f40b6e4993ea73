import LLMTensor

/// A tensor's description in a GGUF file: name, shape (ggml order: innermost dimension first),
/// type, and where its bytes are.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml order: dims[0] is the row length.
    public let dims: [Int]
    public let type: TensorType
    /// Offset of the data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int
    public var elementCount: Int { dims.reduce(1, *) }
}

/// A parsed GGUF file (versions 2 and 3): metadata, tensor infos, and memory-mapped tensor data.
public final class GGUFFile: @unchecked Sendable {
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    public let tensors: [String: GGUFTensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    public let alignment: Int
    public let file: MappedFile

    /// Opens and validates `path`. Throws a ModelError naming the problem for a truncated or corrupt
    /// file, an unsupported version or an unsupported tensor type.
    public convenience init(path: String) throws(ModelError) {
        try self.init(mapped: MappedFile(path: path))
    }

    public init(mapped: MappedFile) throws(ModelError) {
        file = mapped
        var r = GGUFCursor(mapped.bytes)
        let magic = try r.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else { throw .format("bad magic number (expected 'GGUF')") }
        version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try r.count("tensor count", elementSize: 24)
        let kvCount = try r.count("metadata count", elementSize: 12)

        var meta: [String: GGUFValue] = [:]
        for _ in 0..<kvCount {
            let key = try r.string("metadata key")
            let type = try r.read(UInt32.self, "type of '\(key)'")
            meta[key] = try r.value(type: type, context: key, depth: 0)
        }
        metadata = meta

        var align = 32
        if let a = meta["general.alignment"] {
            guard let v = a.int, v > 0, v & (v - 1) == 0 else {
                throw .badMetadata(key: "general.alignment", reason: "must be a power of two")
            }
            align = v
        }
        alignment = align

        var infos: [(String, [Int], UInt32, UInt64)] = []
        infos.reserveCapacity(tensorCount)
        for _ in 0..<tensorCount {
            let name = try r.string("tensor name")
            let nDims = try r.read(UInt32.self, "dimension count of '\(name)'")
            guard (1...4).contains(nDims) else {
                throw .format("tensor '\(name)' has \(nDims) dimensions (1 to 4 allowed)")
            }
            var dims: [Int] = []
            for _ in 0..<nDims {
                let d = try r.read(UInt64.self, "shape of '\(name)'")
                guard d > 0, d < 1 << 40 else { throw .format("tensor '\(name)' has dimension \(d)") }
                dims.append(Int(d))
            }
            let type = try r.read(UInt32.self, "type of '\(name)'")
            let offset = try r.read(UInt64.self, "offset of '\(name)'")
            infos.append((name, dims, type, offset))
        }
        let dataStart = (r.offset + align - 1) / align * align
        let fileSize = mapped.bytes.count

        var table: [String: GGUFTensorInfo] = [:]
        var names: [String] = []
        for (name, dims, rawType, offset) in infos {
            guard let type = TensorType(rawValue: rawType) else {
                throw .unsupportedTensorType(tensor: name, type: TensorType.ggmlName(of: rawType))
            }
            let (count, overflow) = dims.reduce((1, false)) { acc, d in
                let m = acc.0.multipliedReportingOverflow(by: d)
                return (m.partialValue, acc.1 || m.overflow)
            }
            guard !overflow, dims[0] % type.blockSize == 0, let bytes = type.byteCount(elements: count) else {
                throw .format("tensor '\(name)' shape \(dims) does not fit type \(type)")
            }
            guard offset % UInt64(align) == 0 else { throw .format("tensor '\(name)' data is not aligned") }
            guard offset < UInt64(fileSize), dataStart + Int(offset) + bytes <= fileSize else {
                throw .truncated("data of tensor '\(name)' ends past the end of the file")
            }
            guard table[name] == nil else { throw .format("tensor '\(name)' appears twice") }
            table[name] = GGUFTensorInfo(name: name, dims: dims, type: type,
                                         fileOffset: dataStart + Int(offset), byteCount: bytes)
            names.append(name)
        }
        tensors = table
        tensorNames = names
    }

    /// Raw bytes of a tensor (inside the mapping).
    public func data(_ info: GGUFTensorInfo) -> UnsafeRawPointer {
        file.bytes.baseAddress! + info.fileOffset
    }

    /// The tensor `name`, or a missingTensor error.
    public func tensor(_ name: String) throws(ModelError) -> GGUFTensorInfo {
        guard let t = tensors[name] else { throw .missingTensor(name) }
        return t
    }

    // MARK: metadata helpers

    public func int(_ key: String) throws(ModelError) -> Int {
        guard let v = metadata[key] else { throw .missingMetadata(key) }
        guard let i = v.int else { throw .badMetadata(key: key, reason: "expected an integer") }
        return i
    }

    public func float(_ key: String) throws(ModelError) -> Float {
        guard let v = metadata[key] else { throw .missingMetadata(key) }
        guard let d = v.double else { throw .badMetadata(key: key, reason: "expected a number") }
        return Float(d)
    }

    public func string(_ key: String) throws(ModelError) -> String {
        guard let v = metadata[key] else { throw .missingMetadata(key) }
        guard let s = v.string else { throw .badMetadata(key: key, reason: "expected a string") }
        return s
    }

    public func strings(_ key: String) throws(ModelError) -> [String] {
        guard let v = metadata[key]?.array else { throw .missingMetadata(key) }
        var out: [String] = []
        out.reserveCapacity(v.count)
        for item in v {
            guard let s = item.string else { throw .badMetadata(key: key, reason: "expected strings") }
            out.append(s)
        }
        return out
    }
}

/// Bounds-checked little-endian reader over the mapped header.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(ModelError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw .truncated("ends while reading \(what())") }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: v)
    }

    /// A 64-bit count, checked against the bytes left (each element needs at least `elementSize`).
    mutating func count(_ what: String, elementSize: Int) throws(ModelError) -> Int {
        let n = try read(UInt64.self, what)
        guard n <= UInt64(bytes.count - offset) / UInt64(max(1, elementSize)) else {
            throw .truncated("\(what) \(n) is larger than the file allows")
        }
        return Int(n)
    }

    mutating func string(_ what: @autoclosure () -> String) throws(ModelError) -> String {
        let len = try count(what(), elementSize: 1)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + len]), as: UTF8.self)
        offset += len
        return s
    }

    mutating func value(type: UInt32, context: String, depth: Int) throws(ModelError) -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self, context))
        case 1: return .int8(try read(Int8.self, context))
        case 2: return .uint16(try read(UInt16.self, context))
        case 3: return .int16(try read(Int16.self, context))
        case 4: return .uint32(try read(UInt32.self, context))
        case 5: return .int32(try read(Int32.self, context))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self, context)))
        case 7:
            let b = try read(UInt8.self, context)
            guard b <= 1 else { throw .format("metadata '\(context)' has bool value \(b)") }
            return .bool(b == 1)
        case 8: return .string(try string(context))
        case 9:
            guard depth < 4 else { throw .format("metadata '\(context)' nests arrays too deeply") }
            let itemType = try read(UInt32.self, context)
            let n = try count("length of '\(context)'", elementSize: 1)
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: itemType, context: context, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try read(UInt64.self, context))
        case 11: return .int64(try read(Int64.self, context))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self, context)))
        default: throw .format("metadata '\(context)' has unknown value type \(type)")
        }
    }
}
