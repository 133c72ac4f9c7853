/// Invalid configuration or input file. The message names the key (as a
/// dotted path such as `model.beta`), the value given and what is accepted.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
