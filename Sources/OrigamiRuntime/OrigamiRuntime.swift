// OrigamiRuntime
