import ArgumentParser

@main
struct Origami: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "origami",
        abstract: "Run language models bigger than the machine: plan, load, run, quantize, split, serve.",
        subcommands: [Generate.self, Chat.self, Serve.self, Eval.self, Bench.self, Inspect.self, Tokenize.self, Quantize.self, Plan.self])
}
