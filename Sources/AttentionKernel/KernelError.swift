/// Invalid kernel input: the message names the value and the accepted range.
public struct KernelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
