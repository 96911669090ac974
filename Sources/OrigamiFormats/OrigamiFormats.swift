// OrigamiFormats
