// OrigamiTokenizers
