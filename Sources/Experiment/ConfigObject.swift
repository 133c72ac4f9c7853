import Foundation
import SphereGrid

/// Typed read access to one JSON object of a config, with errors that name
/// the dotted key path, the value found and the accepted values.
///
/// Every object records which keys were read; `rejectUnknownKeys()` then
/// reports a misspelled key instead of silently ignoring it.
public final class ConfigObject {
    public let path: String
    public let values: [String: Any]
    private var readKeys = Set<String>()

    public init(_ values: [String: Any], path: String) {
        self.values = values
        self.path = path
    }

    /// Parses a whole JSON document whose top level must be an object.
    public static func parse(data: Data, source: String) throws -> ConfigObject {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            let detail = jsonErrorDetail(error)
            // Foundation reports numbers beyond the doubles (1e999) as a parse
            // error, though their syntax is valid JSON.
            if detail.contains("not representable") {
                throw ConfigError("\(source) contains a number outside the double range (magnitude above about 1.8e308): \(detail) Use a smaller number.")
            }
            throw ConfigError("\(source) is not valid JSON: \(detail); fix the syntax (a JSON validator shows the position)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw ConfigError("\(source) must contain a JSON object ({ ... }) at the top level")
        }
        return ConfigObject(dictionary, path: "")
    }

    private static func jsonErrorDetail(_ error: Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return nsError.localizedDescription
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    private func raw(_ key: String) -> Any? {
        readKeys.insert(key)
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    /// Marks a key as known without reading it (keys handled elsewhere).
    public func accept(_ keys: String...) { readKeys.formUnion(keys) }

    /// Throws for the first key that no accessor read.
    public func rejectUnknownKeys() throws {
        let unknown = Set(values.keys).subtracting(readKeys)
        if let key = unknown.sorted().first {
            let known = readKeys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw ConfigError("\(keyPath(key)) is not a known key: \(path.isEmpty ? "the top level" : path) accepts \(known)")
        }
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case let string as String: return "\"\(string)\""
        case let number as NSNumber:
            if isJSONBoolean(number) { return number.boolValue ? "true" : "false" }
            return number.stringValue
        case let array as [Any]: return "[" + array.prefix(6).map(describe).joined(separator: ", ") + (array.count > 6 ? ", …]" : "]")
        case is [String: Any]: return "an object"
        default: return "\(value)"
        }
    }

    // MARK: numbers

    public func number(_ key: String, value: Any) throws -> Double {
        guard !isJSONBoolean(value), let number = value as? NSNumber else {
            throw ConfigError("\(keyPath(key)) = \(ConfigObject.describe(value)) is not a number")
        }
        let double = number.doubleValue
        guard double.isFinite else {
            throw ConfigError("\(keyPath(key)) = \(double) is not finite")
        }
        return double
    }

    /// Reads a required finite number in `range`; `rangeText` describes the range in messages.
    public func double(_ key: String, in range: ClosedRange<Double>? = nil, rangeText: String? = nil,
                       excludingLower: Bool = false) throws -> Double {
        guard let value = raw(key) else {
            throw ConfigError("\(keyPath(key)) is missing: give \(rangeText ?? "a number")")
        }
        return try checkedDouble(key, value: value, range: range, rangeText: rangeText, excludingLower: excludingLower)
    }

    public func optionalDouble(_ key: String, in range: ClosedRange<Double>? = nil, rangeText: String? = nil,
                               excludingLower: Bool = false) throws -> Double? {
        guard let value = raw(key) else { return nil }
        return try checkedDouble(key, value: value, range: range, rangeText: rangeText, excludingLower: excludingLower)
    }

    private func checkedDouble(_ key: String, value: Any, range: ClosedRange<Double>?, rangeText: String?,
                               excludingLower: Bool) throws -> Double {
        let double = try number(key, value: value)
        if let range {
            let belowLower = excludingLower ? double <= range.lowerBound : double < range.lowerBound
            if belowLower || double > range.upperBound {
                throw ConfigError("\(keyPath(key)) = \(double) is out of range: use \(rangeText ?? "a value in \(range)")")
            }
        }
        return double
    }

    public func integer(_ key: String, in range: ClosedRange<Int>, rangeText: String? = nil) throws -> Int {
        guard let value = raw(key) else {
            throw ConfigError("\(keyPath(key)) is missing: give an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return try checkedInteger(key, value: value, range: range, rangeText: rangeText)
    }

    public func optionalInteger(_ key: String, in range: ClosedRange<Int>, rangeText: String? = nil) throws -> Int? {
        guard let value = raw(key) else { return nil }
        return try checkedInteger(key, value: value, range: range, rangeText: rangeText)
    }

    private func checkedInteger(_ key: String, value: Any, range: ClosedRange<Int>, rangeText: String?) throws -> Int {
        let double = try number(key, value: value)
        let text = rangeText ?? "an integer from \(range.lowerBound) to \(range.upperBound)"
        guard double.rounded() == double, abs(double) < 1e15 else {
            throw ConfigError("\(keyPath(key)) = \(ConfigObject.describe(value)) is not an integer: use \(text)")
        }
        let integer = Int(double)
        guard range.contains(integer) else {
            throw ConfigError("\(keyPath(key)) = \(integer) is out of range: use \(text)")
        }
        return integer
    }

    // MARK: strings, arrays, objects

    public func string(_ key: String, allowed: [String]? = nil) throws -> String {
        guard let value = raw(key) else {
            let hint = allowed.map { "one of " + $0.map { "\"\($0)\"" }.joined(separator: ", ") } ?? "a string"
            throw ConfigError("\(keyPath(key)) is missing: give \(hint)")
        }
        return try checkedString(key, value: value, allowed: allowed)
    }

    public func optionalString(_ key: String, allowed: [String]? = nil) throws -> String? {
        guard let value = raw(key) else { return nil }
        return try checkedString(key, value: value, allowed: allowed)
    }

    private func checkedString(_ key: String, value: Any, allowed: [String]?) throws -> String {
        guard let string = value as? String else {
            throw ConfigError("\(keyPath(key)) = \(ConfigObject.describe(value)) is not a string")
        }
        if let allowed, !allowed.contains(string) {
            let list = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
            throw ConfigError("\(keyPath(key)) = \"\(string)\" is not supported: use one of \(list)")
        }
        return string
    }

    public func object(_ key: String) throws -> ConfigObject {
        guard let value = raw(key) else {
            throw ConfigError("\(keyPath(key)) is missing: give an object { ... }")
        }
        return try checkedObject(key, value: value)
    }

    public func optionalObject(_ key: String) throws -> ConfigObject? {
        guard let value = raw(key) else { return nil }
        return try checkedObject(key, value: value)
    }

    private func checkedObject(_ key: String, value: Any) throws -> ConfigObject {
        guard let dictionary = value as? [String: Any] else {
            throw ConfigError("\(keyPath(key)) = \(ConfigObject.describe(value)) is not an object { ... }")
        }
        return ConfigObject(dictionary, path: keyPath(key))
    }

    /// Raw value for keys that take several forms (a string or an object, …).
    public func anyValue(_ key: String) -> Any? { raw(key) }

    public func optionalDoubleArray(_ key: String, count: Int? = nil) throws -> [Double]? {
        guard let value = raw(key) else { return nil }
        return try doubleArray(key, value: value, count: count)
    }

    public func doubleArray(_ key: String, value: Any, count: Int? = nil) throws -> [Double] {
        guard let array = value as? [Any] else {
            throw ConfigError("\(keyPath(key)) = \(ConfigObject.describe(value)) is not a list of numbers")
        }
        if let count, array.count != count {
            throw ConfigError("\(keyPath(key)) has \(array.count) entries: give exactly \(count) numbers")
        }
        return try array.enumerated().map { index, element in
            try number("\(key)[\(index)]", value: element)
        }
    }

    public func optionalArray(_ key: String) throws -> [Any]? {
        guard let value = raw(key) else { return nil }
        guard let array = value as? [Any] else {
            throw ConfigError("\(keyPath(key)) = \(ConfigObject.describe(value)) is not a list")
        }
        return array
    }
}
