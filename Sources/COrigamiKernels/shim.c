#include "origami_kernels.h"
