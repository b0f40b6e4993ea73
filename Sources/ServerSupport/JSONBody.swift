import Foundation
import Hummingbird
import NIOCore
import OpenAIAPI

/// Reading JSON request bodies and writing JSON responses, with OpenAI-style errors that name the
/// field at fault.
public enum JSONBody {
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer = try await collect(request, limit: limit)
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw OpenAIError.invalidRequest("The request body is empty; expected a JSON object") }
        guard String(validating: data, as: UTF8.self) != nil else {
            throw OpenAIError.invalidRequest("The request body is not valid UTF-8")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let e as DecodingError {
            throw describe(e)
        }
    }

    /// The whole request body, or 413 naming the limit.
    public static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw OpenAIError.tooLarge(limit: limit)
        } catch is NIOTooManyBytesError {
            throw OpenAIError.tooLarge(limit: limit)
        }
    }

    /// A 400 naming the field of a decoding error.
    public static func describe(_ error: DecodingError) -> OpenAIError {
        let path = codingPath
        switch error {
        case .typeMismatch(let type, let ctx):
            let p = path(ctx.codingPath)
            return .invalidRequest("'\(p)' has the wrong type (expected \(typeName(type))): \(ctx.debugDescription)", param: p)
        case .valueNotFound(let type, let ctx):
            let p = path(ctx.codingPath)
            return .invalidRequest("'\(p)' must not be null (expected \(typeName(type)))", param: p)
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return .invalidRequest("'\(p)' is a required field", param: p)
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                return .invalidRequest("The request body is not valid JSON: \(ctx.debugDescription)")
            }
            let p = path(ctx.codingPath)
            return .invalidRequest("'\(p)': \(ctx.debugDescription)", param: p)
        @unknown default:
            return .invalidRequest("The request body could not be decoded")
        }
    }

    /// A coding path as written in error messages: `messages[0].content`.
    public static func codingPath(_ keys: [any CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : "." + k.stringValue }
        }
        return out
    }

    public static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default: String(describing: t).contains("Array") ? "an array" : "an object"
        }
    }

    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    /// The JSON bytes of `value` (`{}` if it cannot be encoded).
    public static func bytes<T: Encodable>(_ value: T) -> ByteBuffer {
        ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    public static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: bytes(value)))
    }

    /// The Retry-After seconds an error answer carries: its own, else 1 for 429 and 503.
    public static func retryAfter(_ error: OpenAIError) -> Int? {
        error.retryAfter ?? (error.status == 429 || error.status == 503 ? 1 : nil)
    }

    public static func errorResponse(_ error: OpenAIError) -> Response {
        var r = response(error, status: HTTPResponse.Status(code: error.status))
        if let after = retryAfter(error) { r.headers[.retryAfter] = String(after) }
        return r
    }

    /// One SSE event `data: <json>\n\n`.
    public static func event<T: Encodable>(_ value: T) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes((try? encoder.encode(value)) ?? Data())
        buffer.writeString("\n\n")
        return buffer
    }
}
