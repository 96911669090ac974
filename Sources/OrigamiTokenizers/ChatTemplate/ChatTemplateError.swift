/// A position in a chat template's source: 1-based line and column, counted in Unicode scalars after
/// `\r\n` and `\r` have been read as `\n` (the text jinja2 itself lexes).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// Why a chat template could not be parsed or rendered.
///
/// The cases follow what jinja2 would do with the same template, so a caller can tell a broken template
/// (``syntax``), a template this engine cannot render faithfully (``unsupported``), a template that rejected
/// its input on purpose (``raised``), and a template that failed on its input (``runtime``) apart. None of
/// them ever comes with a partial prompt.
public enum ChatTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The source is not valid Jinja (jinja2 raises `TemplateSyntaxError` or `TemplateAssertionError`).
    case syntax(String, at: SourceLocation)
    /// Valid Jinja that this engine does not implement, named by `construct` (for example `tag 'include'`,
    /// `filter 'groupby'`); rendering it anyway could produce a prompt that differs from transformers'.
    case unsupported(construct: String, at: SourceLocation)
    /// The template called `raise_exception(message)`, typically to reject a conversation it cannot format
    /// (roles that do not alternate, a system message the model does not take).
    case raised(String, at: SourceLocation)
    /// Rendering failed where jinja2 fails too: an undefined value used in arithmetic, a type error, a
    /// division by zero, a blocked (sandboxed) operation.
    case runtime(String, at: SourceLocation)
    /// `TemplateValue(json:)` was given text that is not JSON; `offset` is in UTF-8 bytes.
    case invalidJSON(String, offset: Int)
    /// The values passed to `render` cannot be used (for example `extra` redefines `messages`).
    case invalidContext(String)

    public var description: String {
        switch self {
        case .syntax(let message, let at): "chat template syntax error at \(at): \(message)"
        case .unsupported(let construct, let at): "chat template uses unsupported \(construct) at \(at)"
        case .raised(let message, let at): "chat template raised an exception at \(at): \(message)"
        case .runtime(let message, let at): "chat template failed at \(at): \(message)"
        case .invalidJSON(let message, let offset): "invalid JSON at byte \(offset): \(message)"
        case .invalidContext(let message): "invalid chat template context: \(message)"
        }
    }
}
