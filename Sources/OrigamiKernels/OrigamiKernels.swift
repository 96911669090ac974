// OrigamiKernels
