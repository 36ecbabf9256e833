/* diff test program, version 1 (see diff_prog.h). */
#define DIFF_VERSION 1
#include "diff_prog.h"
