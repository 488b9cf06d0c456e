import WirecheckCore
import WirecheckEngine

/// `wirecheck catalog`: lists every anomaly and alert, or prints the Markdown reference page.
struct CatalogCommand {
    static let usage = """
    Usage: wirecheck catalog [--markdown]

    Lists every anomaly and alert Wirecheck can raise. With --markdown, prints the event
    reference page (docs/events.md).
    """

    var markdown = false

    init(arguments: [String]) throws {
        var cursor = ArgumentCursor(arguments)
        while let option = cursor.nextOption() {
            switch option {
            case "--markdown": markdown = true
            case "-h", "--help": throw HelpRequested(text: CatalogCommand.usage)
            default: throw UsageError("unknown option '\(option)' for catalog; the only option is --markdown")
            }
        }
        if !cursor.positionals.isEmpty {
            throw UsageError("catalog takes no arguments, got '\(cursor.positionals.joined(separator: " "))'")
        }
    }

    func run() -> Int32 {
        if markdown {
            print(CatalogDocument.markdown(), terminator: "")
            return 0
        }
        print("Anomalies:")
        for definition in CatalogDocument.anomalies {
            print("  \(definition.name) [\(definition.type.rawValue)] \(definition.summary)")
        }
        print("Alerts:")
        for definition in CatalogDocument.alerts {
            let technique = definition.technique.map { " \($0.id)" } ?? ""
            print("  \(definition.signatureID) \(definition.name) (severity \(definition.severity)\(technique)) \(definition.signature)")
        }
        return 0
    }
}
