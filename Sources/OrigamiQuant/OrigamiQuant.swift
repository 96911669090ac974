// Quantized weight types live here (see docs/ARCHITECTURE.md).
