/// A usage error: a wrong flag, a missing value or a value of the wrong form. The message
/// names the value; `main` prints it with the usage hint and exits with status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Splits a command line into options and positional arguments, one option at a time, so each
/// command declares which options it takes and what their values mean.
struct ArgumentCursor {
    private var arguments: [String]
    private var index = 0
    private var attachedValuePending = false
    private(set) var positionals: [String] = []

    init(_ arguments: [String]) {
        self.arguments = arguments
    }

    /// Returns the next option name (`--eve`, `-i`), collecting positional arguments on the way;
    /// nil at the end. `--name=value` is split so `value(for:)` returns the part after `=`.
    mutating func nextOption() -> String? {
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                positionals.append(contentsOf: arguments[index...])
                index = arguments.count
                return nil
            }
            if argument.hasPrefix("-") && argument != "-" {
                if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                    arguments.insert(String(argument[argument.index(after: equals)...]), at: index)
                    attachedValuePending = true
                    return String(argument[..<equals])
                }
                attachedValuePending = false
                return argument
            }
            positionals.append(argument)
        }
        return nil
    }

    /// The value given as `--option=value` to the option just returned, if any. Options with an
    /// optional value take it only in this form, so a following capture path is never swallowed.
    mutating func takeAttachedValue() -> String? {
        guard attachedValuePending else { return nil }
        attachedValuePending = false
        let value = arguments[index]
        index += 1
        return value
    }

    /// The value that follows `option`.
    mutating func value(for option: String) throws -> String {
        guard index < arguments.count else {
            throw UsageError("option \(option) needs a value")
        }
        let value = arguments[index]
        index += 1
        attachedValuePending = false
        return value
    }

    mutating func integer(for option: String, range: ClosedRange<Int>) throws -> Int {
        let text = try value(for: option)
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("invalid value '\(text)' for \(option): expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    mutating func seconds(for option: String) throws -> Double {
        let text = try value(for: option)
        guard let number = Double(text), number >= 0, number.isFinite else {
            throw UsageError("invalid value '\(text)' for \(option): expected a number of seconds, 0 or more")
        }
        return number
    }
}
