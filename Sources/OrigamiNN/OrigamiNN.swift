// OrigamiNN
