/* diff test program, version 2 (see diff_prog.h). */
#define DIFF_VERSION 2
#include "diff_prog.h"
