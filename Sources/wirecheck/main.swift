import Foundation
import WirecheckEngine

let generalUsage = """
Usage: wirecheck COMMAND [OPTIONS]

Wirecheck finds traffic on an industrial control network that does not behave like the
protocol or the flow it claims to be.

Commands:
  analyze    analyse capture files or a live interface and report anomalies and alerts
  learn      learn the plant's normal communication into a baseline file
  baseline   show a baseline as tables, or diff two baselines
  query      list alerts, flows or anomalies kept in a findings store
  report     write the HTML report of a findings store
  catalog    list every anomaly and alert Wirecheck can raise (--markdown for the docs page)
  version    print the version
  help       show this help, or 'wirecheck help COMMAND' for a command's options
"""

func runCommand(_ arguments: [String]) -> Int32 {
    guard let command = arguments.first else {
        FileHandle.standardError.write(Data(generalUsage.utf8))
        return 2
    }
    let rest = Array(arguments.dropFirst())
    do {
        switch command {
        case "analyze":
            return try AnalyzeCommand(arguments: rest).run()
        case "learn":
            return try LearnCommand(arguments: rest).run()
        case "baseline":
            return try BaselineCommand(arguments: rest).run()
        case "query":
            return try QueryCommand(arguments: rest).run()
        case "report":
            return try ReportCommand(arguments: rest).run()
        case "catalog":
            return try CatalogCommand(arguments: rest).run()
        case "version", "--version":
            print("wirecheck \(WirecheckVersion.current)")
            return 0
        case "help", "-h", "--help":
            switch rest.first {
            case "analyze": print(AnalyzeCommand.usage)
            case "learn": print(LearnCommand.usage)
            case "baseline": print(BaselineCommand.usage)
            case "catalog": print(CatalogCommand.usage)
            case "query": print(QueryCommand.usage)
            case "report": print(ReportCommand.usage)
            default: print(generalUsage)
            }
            return 0
        default:
            throw UsageError("unknown command '\(command)'; the commands are analyze, learn, baseline, query, report, catalog, version and help")
        }
    } catch let help as HelpRequested {
        print(help.text)
        return 0
    } catch let usage as UsageError {
        printError(usage.description)
        return 2
    } catch {
        printError("\(error)")
        return 1
    }
}

exit(runCommand(Array(CommandLine.arguments.dropFirst())))
