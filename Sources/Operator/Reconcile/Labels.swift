/// Label keys and values the operator puts on what it creates; the gateway and tests select by them.
public enum Labels {
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let managedByValue = "scalellm-operator"
    public static let instance = "app.kubernetes.io/instance"
    public static let component = "app.kubernetes.io/component"
    public static let service = "scalellm.io/service"
    public static let pool = "scalellm.io/pool"
    public static let tensorParallel = "scalellm.io/tensor-parallel"
    public static let configHash = "scalellm.io/config-hash"

    /// On every object of one LLMService.
    public static func common(_ service: String) -> [String: String] {
        [managedBy: managedByValue, instance: service, service: service]
    }

    /// Selects one pool's engine pods.
    public static func poolSelector(_ service: String, pool: String) -> [String: String] {
        [Self.service: service, component: "engine", Self.pool: pool]
    }

    /// Selects every engine pod of the service (the gateway's discovery selector).
    public static func enginesSelector(_ service: String) -> String {
        "\(Self.service)=\(service),\(component)=engine"
    }

    public static func gatewaySelector(_ service: String) -> [String: String] {
        [Self.service: service, component: "gateway"]
    }
}
