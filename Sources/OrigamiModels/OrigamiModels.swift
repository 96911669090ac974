// OrigamiModels
