/// One message of a conversation, as transformers' `apply_chat_template` takes it.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A Hugging Face `chat_template`, parsed once and rendered for each conversation exactly as transformers'
/// `apply_chat_template(..., tokenize=False)` renders it.
///
/// transformers evaluates the template with jinja2 in an `ImmutableSandboxedEnvironment` with
/// `trim_blocks=True` and `lstrip_blocks=True`, the loop-control extension, its own `tojson` (no HTML
/// escaping), and the globals `raise_exception` and `strftime_now`; this type implements that dialect of
/// Jinja in Swift. Constructs it does not implement are reported as
/// ``ChatTemplateError/unsupported(construct:at:)`` rather than rendered approximately.
///
/// Implemented: text, `{{ }}`, `{# #}`, `{% raw %}`, `-`/`+` whitespace control with `trim_blocks` and
/// `lstrip_blocks`; `if`/`elif`/`else`, `for` (unpacking, `if` filter, `else`, `recursive`, the `loop`
/// object, `break`/`continue`), `set` (names, tuples, `ns.attr`, block form), `macro`/`call` (defaults,
/// `varargs`, `kwargs`, `caller`), `filter` blocks, `with`, `print`, transformers' `generation`; Python
/// literals, operators, slicing, `str`/`dict`/`list` methods, printf `%` and `str.format`; jinja2's
/// built-in tests and filters except those listed below; `range`, `dict`, `namespace`, `cycler`,
/// `joiner`, `raise_exception`, `strftime_now`. Values print as Python's `str()` does.
///
/// Refused: the loader tags `include`, `import`, `from`, `extends`, `block` (at parse time); the filters
/// `groupby`, `slice`, `random`, `pprint`, `striptags`, `urlize`, `urlencode`, `wordwrap`, `xmlattr`,
/// `filesizeformat`, the global `lipsum`, and printing objects whose Python `repr` holds a memory address
/// (functions, generators) when a render reaches them.
public struct ChatTemplate: Sendable {
    /// The template text as given.
    public let source: String
    private let nodes: [Jinja.Node]

    /// Parses `source`.
    ///
    /// - Throws: ``ChatTemplateError/syntax(_:at:)`` when the text is not valid Jinja, and
    ///   ``ChatTemplateError/unsupported(construct:at:)`` for tags that need a template loader (`include`,
    ///   `extends`, `import`, `block`).
    public init(_ source: String) throws(ChatTemplateError) {
        self.source = source
        self.nodes = try Jinja.Parser.parse(source)
    }

    /// Renders the template with `context` as its variables.
    ///
    /// Unlike ``render(messages:addGenerationPrompt:bosToken:eosToken:extra:)`` this passes exactly the
    /// given variables: names that are absent are undefined to the template.
    ///
    /// - Throws: ``ChatTemplateError/raised(_:at:)`` when the template calls `raise_exception`,
    ///   ``ChatTemplateError/runtime(_:at:)`` where jinja2 would fail too, and
    ///   ``ChatTemplateError/unsupported(construct:at:)`` when rendering reaches a construct this engine lacks.
    public func render(_ context: [String: TemplateValue]) throws(ChatTemplateError) -> String {
        var values: [String: Jinja.Value] = [:]
        for (name, value) in context { values[name] = Jinja.Value(value) }
        return try Jinja.Renderer().render(nodes, context: values)
    }

    /// Renders a conversation with the variables `apply_chat_template` provides: `messages` (dicts with
    /// `role` and `content`), `add_generation_prompt`, `bos_token` and `eos_token` when the tokenizer has
    /// them, `tools` and `documents` (`None` unless `extra` gives them), and `extra` (transformers' extra
    /// keyword arguments, such as `date_string` or `enable_thinking`), which may also override the tokens.
    ///
    /// - Throws: What ``render(_:)`` throws, and ``ChatTemplateError/invalidContext(_:)`` when `extra`
    ///   names `messages` or `add_generation_prompt`.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       extra: [String: TemplateValue] = [:]) throws(ChatTemplateError) -> String {
        for reserved in ["messages", "add_generation_prompt"] where extra[reserved] != nil {
            throw .invalidContext("'\(reserved)' is set by render(messages:...) and cannot be passed in extra")
        }
        var context: [String: TemplateValue] = [
            "messages": .array(messages.map { .dictionary(["role": .string($0.role), "content": .string($0.content)]) }),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        for (name, value) in extra { context[name] = value }
        return try render(context)
    }
}

/// The engine's internals (lexer, parser, values, renderer), namespaced so their short names stay clear of
/// the tokenizer types that share this module.
enum Jinja {}
