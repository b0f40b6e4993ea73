import Hummingbird
import Logging
import OpenAIAPI

/// Turns every error escaping a route into OpenAI's JSON error shape with the right status:
/// unknown routes 404, known routes with the wrong method 405, oversized bodies 413, others 500.
public struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path → allowed method, for 405 answers.
    public let routes: [String: String]

    public init(routes: [String: String]) { self.routes = routes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as OpenAIError {
            return JSONBody.errorResponse(e)
        } catch let e as HTTPError {
            let path = request.uri.path
            switch e.status {
            case .notFound:
                if let allowed = routes[path] {
                    return JSONBody.errorResponse(.methodNotAllowed(request.method.rawValue, path, allowed: allowed))
                }
                return JSONBody.errorResponse(.notFound(path))
            case .contentTooLarge:
                return JSONBody.errorResponse(.tooLarge(limit: context.maxUploadSize))
            default:
                return JSONBody.errorResponse(OpenAIError(status: Int(e.status.code), message: e.body ?? e.status.reasonPhrase,
                                                          type: e.status.code < 500 ? "invalid_request_error" : "server_error"))
            }
        } catch {
            context.logger.error("request failed: \(error)")
            return JSONBody.errorResponse(.server("internal error: \(error)"))
        }
    }
}
