/// Invalid grid description: the message names the value and the accepted range.
public struct GridError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
