import Testing

@Test func quantPlaceholder() {}
