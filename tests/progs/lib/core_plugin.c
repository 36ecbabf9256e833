/* A library loaded and unloaded by core_dlopen: its marker's call site
 * must still resolve to this function and file after dlclose. */
#include "profshim.h"

__attribute__((noinline)) void plugin_mark(void)
{
	PROFSHIM_MARK("in-plugin"); /* PLUGIN_MARK_LINE */
}
